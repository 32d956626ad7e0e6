"""A stateful fake GitLab (REST API v4) on a real socket, for the real python-gitlab.

Helpers change state as a person would (open an MR, push, force-push, add a
label as some user, close, merge) and return the webhook delivery GitLab would
send (Merge Request Hook payloads as documented in GitLab's webhook events
reference). Switches: `fail` (5xx, 429 + Retry-After), `hold`, and
`diff_refs_pending` (diff_refs not computed yet after a push).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.forges.gitlab.events import sign
from tests.fakes.repo import Repo, diff_lines, file_diffs
from tests.fakes.server import FakeServer, HTTPError

_ids = itertools.count(1000)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class User:
    id: int
    username: str
    name: str
    token: str

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "state": "active",
            "avatar_url": "",
            "web_url": f"https://gitlab.example/{self.username}",
        }


@dataclass
class Note:
    id: int
    body: str
    author: User
    type: str | None
    resolvable: bool
    position: dict[str, Any] | None = None
    resolved: bool = False
    resolved_by: User | None = None
    created_at: str = field(default_factory=_now)

    def json(self, mr: MergeRequest) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "body": self.body,
            "attachment": None,
            "author": self.author.json(),
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "system": False,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "noteable_iid": mr.iid,
            "project_id": mr.project.id,
            "resolvable": self.resolvable,
            "resolved": self.resolved if self.resolvable else False,
            "resolved_by": self.resolved_by.json() if self.resolved_by else None,
            "position": self.position,
            "confidential": False,
            "internal": False,
        }


@dataclass
class Discussion:
    id: str
    individual_note: bool
    notes: list[Note]


@dataclass
class MergeRequest:
    id: int
    iid: int
    project: Project
    title: str
    author: User
    source_branch: str
    base_sha: str
    head_sha: str
    start_sha: str
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    discussions: list[Discussion] = field(default_factory=list)
    label_events: list[dict[str, Any]] = field(default_factory=list)
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    diff_refs_pending: int = 0

    @property
    def web_url(self) -> str:
        return f"https://gitlab.example/{self.project.path}/-/merge_requests/{self.iid}"

    def diffs(self) -> list[dict[str, Any]]:
        repo = self.project.repo
        out = []
        for d in file_diffs(repo.commits[self.base_sha], repo.commits[self.head_sha]):
            out.append(
                {
                    "old_path": d.old_path,
                    "new_path": d.new_path,
                    "a_mode": "0" if d.new_file else "100644",
                    "b_mode": "0" if d.deleted_file else "100644",
                    "new_file": d.new_file,
                    "renamed_file": d.renamed_file,
                    "deleted_file": d.deleted_file,
                    "diff": d.diff,
                    "generated_file": False,
                }
            )
        return out


@dataclass
class Project:
    id: int
    path: str
    repo: Repo
    members: dict[int, int] = field(default_factory=dict)
    mrs: dict[int, MergeRequest] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.path.rsplit("/", 1)[-1],
            "path_with_namespace": self.path,
            "web_url": f"https://gitlab.example/{self.path}",
            "default_branch": "master",
            "namespace": self.path.split("/", 1)[0],
        }


@dataclass
class Delivery:
    """A webhook delivery: what GitLab would POST."""

    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]


class FakeGitLab(FakeServer):
    prefix = "/api/v4"

    def __init__(self, *, webhook_token: str | None = "gl-hook-secret") -> None:
        super().__init__()
        self.webhook_token = webhook_token
        self.signing_token: str | None = None
        self.users: dict[int, User] = {}
        self.projects: dict[int, Project] = {}
        self.bot = self.add_user("migbot", name="Migration Bot")
        r = self.route
        r("GET", r"/user", self.h_user)
        r("GET", r"/users", self.h_users)
        r("GET", r"/projects/(?P<pid>[^/]+)", self.h_project)
        r("GET", r"/projects/(?P<pid>[^/]+)/merge_requests/(?P<iid>\d+)", self.h_mr)
        r("PUT", r"/projects/(?P<pid>[^/]+)/merge_requests/(?P<iid>\d+)", self.h_mr_update)
        r("GET", r"/projects/(?P<pid>[^/]+)/merge_requests/(?P<iid>\d+)/diffs", self.h_diffs)
        r("GET", r"/projects/(?P<pid>[^/]+)/merge_requests/(?P<iid>\d+)/changes", self.h_changes)
        r(
            "GET",
            r"/projects/(?P<pid>[^/]+)/repository/files/(?P<path>[^/]+)/raw",
            self.h_raw,
        )
        base = r"/projects/(?P<pid>[^/]+)/merge_requests/(?P<iid>\d+)"
        r("GET", base + r"/discussions", self.h_discussions)
        r("POST", base + r"/discussions", self.h_new_discussion)
        r("PUT", base + r"/discussions/(?P<did>\w+)", self.h_resolve)
        r("POST", base + r"/discussions/(?P<did>\w+)/notes", self.h_reply)
        r("PUT", base + r"/discussions/(?P<did>\w+)/notes/(?P<nid>\d+)", self.h_edit_note)
        r("GET", base + r"/notes", self.h_notes)
        r("POST", base + r"/notes", self.h_new_note)
        r("PUT", base + r"/notes/(?P<nid>\d+)", self.h_edit_note)
        r("GET", base + r"/resource_label_events", self.h_label_events)
        r("GET", r"/projects/(?P<pid>[^/]+)/members/all/(?P<uid>\d+)", self.h_member)
        r("POST", r"/projects/(?P<pid>[^/]+)/statuses/(?P<sha>\w+)", self.h_status)
        r("GET", r"/projects/(?P<pid>[^/]+)/issues", self.h_issues)
        r("POST", r"/projects/(?P<pid>[^/]+)/issues", self.h_new_issue)
        r("PUT", r"/projects/(?P<pid>[^/]+)/issues/(?P<iid>\d+)", self.h_edit_issue)

    # --- people and projects ---------------------------------------------------

    def add_user(self, username: str, *, name: str | None = None) -> User:
        user = User(next(_ids), username, name or username.title(), f"tok-{uuid.uuid4().hex}")
        self.users[user.id] = user
        return user

    def user(self, username: str) -> User:
        for user in self.users.values():
            if user.username == username:
                return user
        return self.add_user(username)

    def create_project(self, path: str, files: dict[str, str]) -> Project:
        project = Project(next(_ids), path, Repo(files))
        self.projects[project.id] = project
        project.members[self.bot.id] = 30
        return project

    def set_access(self, project: Project, user: User, level: int) -> None:
        project.members[user.id] = level

    # --- what people do (each returns the webhook delivery) -----------------------

    def open_mr(
        self,
        project: Project,
        *,
        title: str,
        author: User,
        changes: dict[str, str | None],
        labels: list[str] | None = None,
    ) -> tuple[MergeRequest, Delivery]:
        base = project.repo.branches["master"]
        head = project.repo.change(base, changes)
        iid = len(project.mrs) + 1
        branch = f"topic-{iid}"
        project.repo.branches[branch] = head
        mr = MergeRequest(
            id=next(_ids),
            iid=iid,
            project=project,
            title=title,
            author=author,
            source_branch=branch,
            base_sha=base,
            head_sha=head,
            start_sha=base,
            labels=list(labels or []),
        )
        mr.versions.append((base, base, head))
        project.mrs[iid] = mr
        return mr, self.hook(mr, "open", author)

    def push(
        self,
        mr: MergeRequest,
        changes: dict[str, str | None],
        *,
        by: User | None = None,
        force: bool = False,
    ) -> Delivery:
        """A new commit on the MR branch; ``force`` rewrites it from the base instead."""
        repo = mr.project.repo
        old = mr.head_sha
        if force:
            files = dict(repo.commits[old])
            files.update({k: v for k, v in changes.items() if v is not None})
            for k, v in changes.items():
                if v is None:
                    files.pop(k, None)
            head = repo.commit(mr.base_sha, files)
        else:
            head = repo.change(old, changes)
        repo.branches[mr.source_branch] = head
        mr.head_sha = head
        mr.versions.append((mr.base_sha, mr.start_sha, head))
        return self.hook(mr, "update", by or mr.author, oldrev=old)

    def add_label(self, mr: MergeRequest, label: str, *, by: User) -> Delivery:
        before = list(mr.labels)
        if label not in mr.labels:
            mr.labels.append(label)
        mr.label_events.append(self._label_event(mr, label, "add", by))
        return self.hook(mr, "update", by, label_change=(before, list(mr.labels)))

    def remove_label(self, mr: MergeRequest, label: str, *, by: User) -> Delivery:
        before = list(mr.labels)
        mr.labels = [x for x in mr.labels if x != label]
        mr.label_events.append(self._label_event(mr, label, "remove", by))
        return self.hook(mr, "update", by, label_change=(before, list(mr.labels)))

    def close(self, mr: MergeRequest, *, by: User) -> Delivery:
        mr.state = "closed"
        return self.hook(mr, "close", by)

    def merge(self, mr: MergeRequest, *, by: User) -> Delivery:
        mr.state = "merged"
        mr.project.repo.branches["master"] = mr.head_sha
        return self.hook(mr, "merge", by)

    def reply(self, discussion: Discussion, body: str, *, by: User) -> None:
        discussion.notes.append(Note(next(_ids), body, by, "DiffNote", True))

    def _label_event(self, mr: MergeRequest, label: str, action: str, by: User) -> dict[str, Any]:
        return {
            "id": next(_ids),
            "user": by.json(),
            "created_at": _now(),
            "resource_type": "MergeRequest",
            "resource_id": mr.id,
            "label": {"id": abs(hash(label)) % 10000, "name": label, "color": "#428BCA"},
            "action": action,
        }

    # --- webhook deliveries --------------------------------------------------------

    def _label_json(self, mr: MergeRequest, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 10000,
            "title": name,
            "color": "#428BCA",
            "project_id": mr.project.id,
            "created_at": "2024-01-01 00:00:00 UTC",
            "updated_at": "2024-01-01 00:00:00 UTC",
            "template": False,
            "description": None,
            "type": "ProjectLabel",
            "group_id": None,
        }

    def payload(
        self,
        mr: MergeRequest,
        action: str,
        user: User,
        *,
        oldrev: str | None = None,
        label_change: tuple[list[str], list[str]] | None = None,
    ) -> dict[str, Any]:
        project = mr.project.json() | {
            "description": "",
            "avatar_url": None,
            "git_ssh_url": f"git@gitlab.example:{mr.project.path}.git",
            "git_http_url": f"https://gitlab.example/{mr.project.path}.git",
            "visibility_level": 20,
            "ci_config_path": "",
        }
        head_commit = {
            "id": mr.head_sha,
            "message": f"{mr.title}\n",
            "title": mr.title,
            "timestamp": _now(),
            "url": f"https://gitlab.example/{mr.project.path}/-/commit/{mr.head_sha}",
            "author": {"name": mr.author.name, "email": f"{mr.author.username}@example.org"},
        }
        attrs: dict[str, Any] = {
            "id": mr.id,
            "iid": mr.iid,
            "target_branch": "master",
            "source_branch": mr.source_branch,
            "source_project_id": mr.project.id,
            "author_id": mr.author.id,
            "assignee_ids": [],
            "reviewer_ids": [],
            "title": mr.title,
            "created_at": "2024-01-01 00:00:00 UTC",
            "updated_at": "2024-01-01 00:00:00 UTC",
            "milestone_id": None,
            "state_id": {"opened": 1, "closed": 2, "merged": 3}[mr.state],
            "state": mr.state,
            "blocking_discussions_resolved": True,
            "work_in_progress": False,
            "draft": False,
            "first_contribution": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "target_project_id": mr.project.id,
            "description": "",
            "url": mr.web_url,
            "source": project,
            "target": project,
            "last_commit": head_commit,
            "labels": [self._label_json(mr, x) for x in mr.labels],
            "action": action,
        }
        if oldrev is not None:
            attrs["oldrev"] = oldrev
        changes: dict[str, Any] = {}
        if label_change is not None:
            changes["labels"] = {
                "previous": [self._label_json(mr, x) for x in label_change[0]],
                "current": [self._label_json(mr, x) for x in label_change[1]],
            }
        return {
            "object_kind": "merge_request",
            "event_type": "merge_request",
            "user": user.json() | {"email": "[REDACTED]"},
            "project": project,
            "object_attributes": attrs,
            "labels": [self._label_json(mr, x) for x in mr.labels],
            "changes": changes,
            "repository": {
                "name": project["name"],
                "url": project["git_ssh_url"],
                "description": "",
                "homepage": project["web_url"],
            },
            "assignees": [],
            "reviewers": [],
        }

    def hook(
        self,
        mr: MergeRequest,
        action: str,
        user: User,
        *,
        oldrev: str | None = None,
        label_change: tuple[list[str], list[str]] | None = None,
    ) -> Delivery:
        payload = self.payload(mr, action, user, oldrev=oldrev, label_change=label_change)
        return self.deliver(payload)

    def deliver(self, payload: dict[str, Any], event: str = "Merge Request Hook") -> Delivery:
        body = json.dumps(payload).encode()
        ident = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.9.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Instance": "https://gitlab.example",
            "X-Gitlab-Webhook-UUID": "6d4a8f4e-0000-4000-8000-000000000001",
            "X-Gitlab-Event-UUID": ident,
            "Idempotency-Key": ident,
        }
        if self.webhook_token is not None:
            headers["X-Gitlab-Token"] = self.webhook_token
        if self.signing_token is not None:
            stamp = str(int(time.time()))
            headers["webhook-id"] = ident
            headers["webhook-timestamp"] = stamp
            headers["webhook-signature"] = sign(self.signing_token, ident, stamp, body)
        return Delivery(headers, body, payload)

    # --- handlers --------------------------------------------------------------------

    def _auth(self, request: web.Request) -> User:
        token = request.headers.get("PRIVATE-TOKEN")
        for user in self.users.values():
            if token and user.token == token:
                return user
        raise HTTPError(401, "401 Unauthorized")

    def _project(self, request: web.Request, pid: str) -> Project:
        self._auth(request)
        if pid.isdigit() and int(pid) in self.projects:
            return self.projects[int(pid)]
        for project in self.projects.values():
            if project.path == pid:
                return project
        raise HTTPError(404, "404 Project Not Found")

    def _mr(self, request: web.Request, p: dict[str, str]) -> MergeRequest:
        project = self._project(request, p["pid"])
        mr = project.mrs.get(int(p["iid"]))
        if mr is None:
            raise HTTPError(404, "404 Not found")
        return mr

    def mr_json(self, mr: MergeRequest) -> dict[str, Any]:
        refs: dict[str, Any] | None = {
            "base_sha": mr.base_sha,
            "head_sha": mr.head_sha,
            "start_sha": mr.start_sha,
        }
        if mr.diff_refs_pending > 0:
            mr.diff_refs_pending -= 1
            refs = None
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project.id,
            "title": mr.title,
            "description": "",
            "state": mr.state,
            "author": mr.author.json(),
            "labels": list(mr.labels),
            "source_branch": mr.source_branch,
            "target_branch": "master",
            "sha": mr.head_sha,
            "web_url": mr.web_url,
            "diff_refs": refs,
        }

    async def h_user(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._auth(request).json())

    async def h_users(self, request: web.Request, p: dict[str, str]) -> web.Response:
        self._auth(request)
        name = request.query.get("username")
        found = [u.json() for u in self.users.values() if u.username == name]
        return self.paginate(request, found)

    async def h_project(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._project(request, p["pid"]).json())

    async def h_mr(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self.mr_json(self._mr(request, p)))

    async def h_mr_update(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        data = await self.body(request)
        for label in filter(None, str(data.get("add_labels", "")).split(",")):
            if label not in mr.labels:
                mr.labels.append(label)
                mr.label_events.append(self._label_event(mr, label, "add", user))
        return web.json_response(self.mr_json(mr))

    async def h_diffs(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return self.paginate(request, self._mr(request, p).diffs())

    async def h_changes(self, request: web.Request, p: dict[str, str]) -> web.Response:
        mr = self._mr(request, p)
        return web.json_response(self.mr_json(mr) | {"changes": mr.diffs()})

    async def h_raw(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        ref = request.query.get("ref", "master")
        sha = project.repo.branches.get(ref, ref)
        files = project.repo.commits.get(sha)
        if files is None or p["path"] not in files:
            raise HTTPError(404, "404 File Not Found")
        return web.Response(text=files[p["path"]], content_type="text/plain")

    def _discussion(self, mr: MergeRequest, did: str) -> Discussion:
        for d in mr.discussions:
            if d.id == did:
                return d
        raise HTTPError(404, "404 Not found")

    def _djson(self, mr: MergeRequest, d: Discussion) -> dict[str, Any]:
        return {
            "id": d.id,
            "individual_note": d.individual_note,
            "notes": [n.json(mr) for n in d.notes],
        }

    async def h_discussions(self, request: web.Request, p: dict[str, str]) -> web.Response:
        mr = self._mr(request, p)
        return self.paginate(request, [self._djson(mr, d) for d in mr.discussions])

    def _check_position(self, mr: MergeRequest, pos: dict[str, Any]) -> None:
        if (pos.get("base_sha"), pos.get("start_sha"), pos.get("head_sha")) not in mr.versions:
            raise HTTPError(400, "400 Bad request - position does not match a diff version")
        repo = mr.project.repo
        diffs = {
            d.new_path: d
            for d in file_diffs(repo.commits[pos["base_sha"]], repo.commits[pos["head_sha"]])
        }
        d = diffs.get(pos.get("new_path", ""))
        if d is None:
            raise HTTPError(400, '400 Bad request - Note {:line_code=>["can\'t be blank"]}')
        added, removed, context = diff_lines(d.diff)
        new, old = pos.get("new_line"), pos.get("old_line")
        new = int(new) if new is not None else None
        old = int(old) if old is not None else None
        ok = (
            (new is not None and old is None and new in added)
            or (old is not None and new is None and old in removed)
            or (new is not None and old is not None and (old, new) in context)
        )
        if not ok:
            raise HTTPError(400, '400 Bad request - Note {:line_code=>["must be valid"]}')

    async def h_new_discussion(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        data = await self.body(request)
        position = data.get("position")
        if isinstance(position, dict):
            self._check_position(mr, position)
        note = Note(
            next(_ids),
            str(data["body"]),
            user,
            "DiffNote" if position else "DiscussionNote",
            True,
            position=position if isinstance(position, dict) else None,
        )
        d = Discussion(uuid.uuid4().hex, False, [note])
        mr.discussions.append(d)
        return web.json_response(self._djson(mr, d), status=201)

    async def h_resolve(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        d = self._discussion(mr, p["did"])
        data = await self.body(request)
        resolved = str(data.get("resolved")).lower() == "true"
        for note in d.notes:
            if note.resolvable:
                note.resolved = resolved
                note.resolved_by = user if resolved else None
        return web.json_response(self._djson(mr, d))

    async def h_reply(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        d = self._discussion(mr, p["did"])
        data = await self.body(request)
        note = Note(next(_ids), str(data["body"]), user, d.notes[0].type, d.notes[0].resolvable)
        note.resolved = d.notes[0].resolved
        d.notes.append(note)
        return web.json_response(note.json(mr), status=201)

    async def h_edit_note(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        nid = int(p["nid"])
        for d in mr.discussions:
            if "did" in p and d.id != p["did"]:
                continue
            for note in d.notes:
                if note.id == nid:
                    if note.author.id != user.id:
                        raise HTTPError(403, "403 Forbidden")
                    data = await self.body(request)
                    note.body = str(data.get("body", note.body))
                    return web.json_response(note.json(mr))
        raise HTTPError(404, "404 Note Not Found")

    async def h_notes(self, request: web.Request, p: dict[str, str]) -> web.Response:
        mr = self._mr(request, p)
        notes = [n.json(mr) for d in mr.discussions for n in d.notes]
        return self.paginate(request, notes)

    async def h_new_note(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        mr = self._mr(request, p)
        data = await self.body(request)
        note = Note(next(_ids), str(data["body"]), user, None, False)
        mr.discussions.append(Discussion(uuid.uuid4().hex, True, [note]))
        return web.json_response(note.json(mr), status=201)

    async def h_label_events(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return self.paginate(request, list(self._mr(request, p).label_events))

    async def h_member(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        uid = int(p["uid"])
        if uid not in project.members or uid not in self.users:
            raise HTTPError(404, "404 Not found")
        return web.json_response(self.users[uid].json() | {"access_level": project.members[uid]})

    async def h_status(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        data = await self.body(request)
        status = {"sha": p["sha"], **data}
        project.statuses.append(status)
        return web.json_response(status, status=201)

    async def h_issues(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        search = request.query.get("search", "")
        state = request.query.get("state")
        found = [
            i
            for i in project.issues
            if search in i["title"] and (state is None or i["state"] == state)
        ]
        return self.paginate(request, found)

    async def h_new_issue(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        data = await self.body(request)
        iid = len(project.issues) + 1
        issue = {
            "id": next(_ids),
            "iid": iid,
            "title": data["title"],
            "description": data.get("description", ""),
            "labels": [x for x in str(data.get("labels", "")).split(",") if x],
            "state": "opened",
            "web_url": f"https://gitlab.example/{project.path}/-/issues/{iid}",
        }
        project.issues.append(issue)
        return web.json_response(issue, status=201)

    async def h_edit_issue(self, request: web.Request, p: dict[str, str]) -> web.Response:
        project = self._project(request, p["pid"])
        data = await self.body(request)
        for issue in project.issues:
            if issue["iid"] == int(p["iid"]):
                if "description" in data:
                    issue["description"] = data["description"]
                for label in filter(None, str(data.get("add_labels", "")).split(",")):
                    if label not in issue["labels"]:
                        issue["labels"].append(label)
                return web.json_response(issue)
        raise HTTPError(404, "404 Issue Not Found")

    # --- what a person sees ------------------------------------------------------------

    def summary_notes(self, mr: MergeRequest) -> list[Note]:
        return [
            n
            for d in mr.discussions
            if d.individual_note
            for n in d.notes
            if "<!-- migbot:summary -->" in n.body
        ]

    def threads(self, mr: MergeRequest) -> list[Discussion]:
        return [d for d in mr.discussions if not d.individual_note]
