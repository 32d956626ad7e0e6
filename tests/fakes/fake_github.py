"""A stateful fake GitHub REST API on a real socket, for the real PyGithub.

Webhook deliveries are built from the ``@octokit/webhooks-examples`` payloads
(values replaced, shape kept) and checked against ``@octokit/webhooks-schemas``.
Auth: a personal token, or a GitHub App (RS256 JWT -> installation token).
Switches: `fail` (5xx, 429, secondary rate limit 403 + Retry-After) and `hold`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from aiohttp import web

from bot.forges.github.events import sign
from tests.fakes.repo import Repo, diff_lines, file_diffs
from tests.fakes.server import FakeServer, HTTPError

if TYPE_CHECKING:
    from tests.fakes.fixtures import Octokit

_ids = itertools.count(5000)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class GUser:
    id: int
    login: str
    type: str = "User"


@dataclass
class PullRequest:
    number: int
    repo: Repository
    title: str
    author: GUser
    head_ref: str
    base_sha: str
    head_sha: str
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)


@dataclass
class Repository:
    id: int
    full_name: str
    repo: Repo
    collaborators: dict[str, str] = field(default_factory=dict)
    """login -> role_name (admin, maintain, write, triage, read)."""
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]


_LEGACY = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}


class FakeGitHub(FakeServer):
    def __init__(self, octokit: Octokit, *, webhook_secret: str = "gh-hook-secret") -> None:
        super().__init__()
        self.octokit = octokit
        self.webhook_secret = webhook_secret
        self.users: dict[str, GUser] = {}
        self.tokens: dict[str, GUser] = {}
        self.repos: dict[str, Repository] = {}
        self.app_id: int | None = None
        self.app_slug = "migbot"
        self.app_public_key: Any = None
        self.installation_id: int | None = None
        self.bot = self.add_user("migbot-user")
        self.bot_token = self.token_for(self.bot)
        r = self.route
        repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        pull = repo + r"/pulls/(?P<n>\d+)"
        r("GET", r"/user", self.h_user)
        r("GET", r"/app", self.h_app)
        r("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self.h_access_token)
        r("GET", repo, self.h_repo)
        r("GET", pull, self.h_pull)
        r("GET", pull + r"/files", self.h_files)
        r("GET", pull + r"/comments", self.h_review_comments)
        r("POST", pull + r"/comments", self.h_new_review_comment)
        r("POST", pull + r"/comments/(?P<cid>\d+)/replies", self.h_reply)
        r("POST", pull + r"/reviews", self.h_new_review)
        r("GET", repo + r"/pulls/comments/(?P<cid>\d+)", self.h_review_comment)
        r("PATCH", repo + r"/pulls/comments/(?P<cid>\d+)", self.h_edit_review_comment)
        r("GET", repo + r"/issues/(?P<n>\d+)/comments", self.h_issue_comments)
        r("POST", repo + r"/issues/(?P<n>\d+)/comments", self.h_new_issue_comment)
        r("GET", repo + r"/issues/comments/(?P<cid>\d+)", self.h_issue_comment)
        r("PATCH", repo + r"/issues/comments/(?P<cid>\d+)", self.h_edit_issue_comment)
        r("GET", repo + r"/issues/(?P<n>\d+)", self.h_issue)
        r("PATCH", repo + r"/issues/(?P<n>\d+)", self.h_edit_issue)
        r("GET", repo + r"/issues/(?P<n>\d+)/events", self.h_issue_events)
        r("POST", repo + r"/issues/(?P<n>\d+)/labels", self.h_add_labels)
        r("GET", repo + r"/issues", self.h_issues)
        r("POST", repo + r"/issues", self.h_new_issue)
        r("GET", repo + r"/contents/(?P<path>.+)", self.h_contents)
        r("GET", repo + r"/commits/(?P<sha>\w+)", self.h_commit)
        r("POST", repo + r"/statuses/(?P<sha>\w+)", self.h_status)
        r("POST", repo + r"/check-runs", self.h_check_run)
        r("GET", repo + r"/collaborators/(?P<login>[^/]+)/permission", self.h_permission)

    # --- people, apps, repositories ------------------------------------------------

    def add_user(self, login: str, type_: str = "User") -> GUser:
        user = GUser(next(_ids), login, type_)
        self.users[login] = user
        return user

    def user(self, login: str) -> GUser:
        return self.users.get(login) or self.add_user(login)

    def token_for(self, user: GUser) -> str:
        token = f"ghp_{uuid.uuid4().hex}"
        self.tokens[token] = user
        return token

    def register_app(self, app_id: int, public_key: Any, installation_id: int) -> GUser:
        """Make this fake accept a GitHub App; returns its bot user."""
        self.app_id = app_id
        self.app_public_key = public_key
        self.installation_id = installation_id
        return self.add_user(f"{self.app_slug}[bot]", "Bot")

    def create_repo(self, full_name: str, files: dict[str, str]) -> Repository:
        repo = Repository(next(_ids), full_name, Repo(files))
        self.repos[full_name] = repo
        return repo

    def set_role(self, repo: Repository, user: GUser, role: str) -> None:
        repo.collaborators[user.login] = role

    # --- what people do (each returns the webhook delivery) ----------------------------

    def open_pr(
        self, repo: Repository, *, title: str, author: GUser, changes: dict[str, str | None]
    ) -> tuple[PullRequest, Delivery]:
        base = repo.repo.branches["master"]
        head = repo.repo.change(base, changes)
        number = len(repo.pulls) + len(repo.issues) + 1
        pr = PullRequest(number, repo, title, author, f"topic-{number}", base, head)
        pr.commits.append(head)
        repo.pulls[number] = pr
        return pr, self.pr_event(pr, "opened", author)

    def push(
        self, pr: PullRequest, changes: dict[str, str | None], *, force: bool = False
    ) -> Delivery:
        repo = pr.repo.repo
        before = pr.head_sha
        if force:
            files = dict(repo.commits[before])
            for k, v in changes.items():
                if v is None:
                    files.pop(k, None)
                else:
                    files[k] = v
            head = repo.commit(pr.base_sha, files)
        else:
            head = repo.change(before, changes)
        pr.head_sha = head
        pr.commits.append(head)
        return self.pr_event(pr, "synchronize", pr.author, before=before)

    def add_label(self, pr: PullRequest, label: str, *, by: GUser) -> Delivery:
        if label not in pr.labels:
            pr.labels.append(label)
        pr.events.append(self._event("labeled", pr, label, by))
        return self.pr_event(pr, "labeled", by, label=label)

    def close(self, pr: PullRequest, *, by: GUser, merge: bool = False) -> Delivery:
        pr.state = "closed"
        pr.merged = merge
        return self.pr_event(pr, "closed", by)

    def reply(self, pr: PullRequest, comment_id: int, body: str, *, by: GUser) -> None:
        root = next(c for c in pr.review_comments if c["id"] == comment_id)
        pr.review_comments.append(self._review_comment(pr, by, body, root, in_reply_to=comment_id))

    # --- JSON shapes -------------------------------------------------------------------

    def _user(self, user: GUser) -> dict[str, Any]:
        return {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "type": user.type,
            "site_admin": False,
            "url": f"{self.base_url}/users/{user.login}",
            "html_url": f"https://github.example/{user.login}",
        }

    def _repo_url(self, repo: Repository) -> str:
        return f"{self.base_url}/repos/{repo.full_name}"

    def _repo(self, repo: Repository) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": name,
            "full_name": repo.full_name,
            "private": False,
            "owner": self._user(self.user(owner)),
            "url": self._repo_url(repo),
            "html_url": f"https://github.example/{repo.full_name}",
            "default_branch": "master",
        }

    def _label(self, repo: Repository, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 100000,
            "node_id": f"L_{abs(hash(name)) % 100000}",
            "url": f"{self._repo_url(repo)}/labels/{name}",
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def _pr(self, pr: PullRequest) -> dict[str, Any]:
        url = f"{self._repo_url(pr.repo)}/pulls/{pr.number}"
        repo = self._repo(pr.repo)
        return {
            "id": pr.number + 900000,
            "number": pr.number,
            "state": pr.state,
            "title": pr.title,
            "body": "",
            "user": self._user(pr.author),
            "labels": [self._label(pr.repo, x) for x in pr.labels],
            "merged": pr.merged,
            "draft": False,
            "url": url,
            "html_url": f"https://github.example/{pr.repo.full_name}/pull/{pr.number}",
            "issue_url": f"{self._repo_url(pr.repo)}/issues/{pr.number}",
            "head": {"sha": pr.head_sha, "ref": pr.head_ref, "label": pr.head_ref, "repo": repo},
            "base": {"sha": pr.base_sha, "ref": "master", "label": "master", "repo": repo},
        }

    def _event(self, kind: str, pr: PullRequest, label: str, by: GUser) -> dict[str, Any]:
        return {
            "id": next(_ids),
            "event": kind,
            "actor": self._user(by),
            "label": {"name": label, "color": "ededed"},
            "created_at": _now(),
            "url": f"{self._repo_url(pr.repo)}/issues/events/1",
        }

    def _review_comment(
        self,
        pr: PullRequest,
        user: GUser,
        body: str,
        where: dict[str, Any],
        *,
        in_reply_to: int | None = None,
        review_id: int | None = None,
        commit_id: str | None = None,
    ) -> dict[str, Any]:
        cid = next(_ids)
        comment = {
            "id": cid,
            "body": body,
            "user": self._user(user),
            "path": where.get("path"),
            "line": where.get("line"),
            "side": where.get("side"),
            "subject_type": where.get("subject_type", "line"),
            "commit_id": commit_id or pr.head_sha,
            "original_commit_id": commit_id or pr.head_sha,
            "pull_request_review_id": review_id,
            "url": f"{self._repo_url(pr.repo)}/pulls/comments/{cid}",
            "html_url": f"https://github.example/{pr.repo.full_name}/pull/{pr.number}#r{cid}",
            "pull_request_url": f"{self._repo_url(pr.repo)}/pulls/{pr.number}",
            "created_at": _now(),
            "updated_at": _now(),
        }
        if in_reply_to is not None:
            comment["in_reply_to_id"] = in_reply_to
        return comment

    # --- webhook deliveries -----------------------------------------------------------

    def pr_event(
        self,
        pr: PullRequest,
        action: str,
        sender: GUser,
        *,
        label: str | None = None,
        before: str | None = None,
    ) -> Delivery:
        payload = self.octokit.example("pull_request", action)
        mine = self._pr(pr)
        body = payload["pull_request"]
        for key in ("number", "state", "title", "url", "html_url", "issue_url", "merged"):
            body[key] = mine[key]
        body["id"] = mine["id"]
        body["user"] = self._patch_user(body["user"], pr.author)
        body["labels"] = [
            self._patch_label(body["labels"][0] if body["labels"] else None, pr.repo, x)
            for x in pr.labels
        ]
        for side in ("head", "base"):
            body[side]["sha"] = mine[side]["sha"]
            body[side]["ref"] = mine[side]["ref"]
            self._patch_repo(body[side]["repo"], pr.repo)
        if action == "closed":
            body["merged"] = pr.merged
            if pr.merged:
                body["merge_commit_sha"] = pr.head_sha
        payload["number"] = pr.number
        self._patch_repo(payload["repository"], pr.repo)
        payload["sender"] = self._patch_user(payload["sender"], sender)
        if label is not None:
            payload["label"] = self._patch_label(payload.get("label"), pr.repo, label)
        if action == "synchronize":
            payload["before"] = before
            payload["after"] = pr.head_sha
        if self.installation_id is not None:
            payload["installation"] = {"id": self.installation_id, "node_id": "MDIz"}
        self.octokit.validate("pull_request", action, payload)
        return self.deliver("pull_request", payload)

    def _patch_user(self, example: dict[str, Any], user: GUser) -> dict[str, Any]:
        out = dict(example)
        out.update(login=user.login, id=user.id, type=user.type)
        out["url"] = f"https://api.github.com/users/{user.login}"
        out["html_url"] = f"https://github.com/{user.login}"
        return out

    def _patch_label(
        self, example: dict[str, Any] | None, repo: Repository, name: str
    ) -> dict[str, Any]:
        out = dict(example or {})
        out.update(self._label(repo, name))
        out["url"] = f"https://api.github.com/repos/{repo.full_name}/labels/{name}"
        return out

    def _patch_repo(self, example: dict[str, Any], repo: Repository) -> None:
        owner, name = repo.full_name.split("/")
        example.update(id=repo.id, name=name, full_name=repo.full_name)
        example["owner"] = self._patch_user(example["owner"], self.user(owner))
        example["html_url"] = f"https://github.com/{repo.full_name}"
        example["url"] = f"https://api.github.com/repos/{repo.full_name}"

    def deliver(self, event: str, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/5f3a2b1",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "123456",
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-GitHub-Hook-Installation-Target-ID": str(payload.get("repository", {}).get("id", 0)),
            "X-Hub-Signature": "sha1="
            + hmac.new(self.webhook_secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": sign(self.webhook_secret, body),
        }
        return Delivery(headers, body, payload)

    # --- handlers ------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> GUser:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = self.tokens.get(token)
        if user is None or scheme.lower() not in ("token", "bearer"):
            raise HTTPError(401, "Bad credentials")
        return user

    def _repo_of(self, request: web.Request, p: dict[str, str]) -> Repository:
        self._auth(request)
        repo = self.repos.get(f"{p['owner']}/{p['name']}")
        if repo is None:
            raise HTTPError(404, "Not Found")
        return repo

    def _pull(self, request: web.Request, p: dict[str, str]) -> PullRequest:
        repo = self._repo_of(request, p)
        pr = repo.pulls.get(int(p["n"]))
        if pr is None:
            raise HTTPError(404, "Not Found")
        return pr

    async def h_user(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        if user.type == "Bot":
            raise HTTPError(403, "Resource not accessible by integration")
        return web.json_response(self._user(user))

    def _jwt(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.app_public_key is None:
            raise HTTPError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(token, self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            raise HTTPError(401, f"JWT invalid: {exc}") from exc
        if str(claims.get("iss")) != str(self.app_id):
            raise HTTPError(401, "JWT issuer is not this app")

    async def h_app(self, request: web.Request, p: dict[str, str]) -> web.Response:
        self._jwt(request)
        return web.json_response({"id": self.app_id, "slug": self.app_slug, "name": "migbot"})

    async def h_access_token(self, request: web.Request, p: dict[str, str]) -> web.Response:
        self._jwt(request)
        if int(p["iid"]) != self.installation_id:
            raise HTTPError(404, "Not Found")
        bot = self.users[f"{self.app_slug}[bot]"]
        token = f"ghs_{uuid.uuid4().hex}"
        self.tokens[token] = bot
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response(
            {
                "token": token,
                "expires_at": expires,
                "permissions": {},
                "repository_selection": "all",
            },
            status=201,
        )

    async def h_repo(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._repo(self._repo_of(request, p)))

    async def h_pull(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._pr(self._pull(request, p)))

    async def h_files(self, request: web.Request, p: dict[str, str]) -> web.Response:
        pr = self._pull(request, p)
        repo = pr.repo.repo
        files = []
        for d in file_diffs(repo.commits[pr.base_sha], repo.commits[pr.head_sha]):
            status = "added" if d.new_file else "removed" if d.deleted_file else "modified"
            files.append(
                {
                    "sha": hashlib.sha1(d.diff.encode()).hexdigest(),
                    "filename": d.new_path,
                    "status": status,
                    "additions": d.additions,
                    "deletions": d.deletions,
                    "changes": d.additions + d.deletions,
                    "patch": d.diff,
                    "blob_url": "",
                    "raw_url": "",
                    "contents_url": "",
                }
            )
        return self.paginate(request, files)

    async def h_contents(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        ref = request.query.get("ref", "master")
        sha = repo.repo.branches.get(ref, ref)
        files = repo.repo.commits.get(sha)
        path = p["path"]
        if files is None or path not in files:
            raise HTTPError(404, "Not Found")
        data = files[path].encode()
        return web.json_response(
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": base64.b64encode(data).decode(),
                "sha": hashlib.sha1(data).hexdigest(),
                "url": f"{self._repo_url(repo)}/contents/{path}?ref={sha}",
            }
        )

    async def h_commit(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        if p["sha"] not in repo.repo.commits:
            raise HTTPError(422, "No commit found for SHA")
        return web.json_response(
            {
                "sha": p["sha"],
                "url": f"{self._repo_url(repo)}/commits/{p['sha']}",
                "commit": {"message": "commit"},
                "files": [],
            }
        )

    async def h_review_comments(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return self.paginate(request, list(self._pull(request, p).review_comments))

    def _check_line(self, pr: PullRequest, c: dict[str, Any]) -> None:
        if c.get("subject_type") == "file":
            return
        repo = pr.repo.repo
        diffs = {
            d.new_path: d for d in file_diffs(repo.commits[pr.base_sha], repo.commits[pr.head_sha])
        }
        d = diffs.get(c.get("path", ""))
        if d is None:
            raise HTTPError(422, "Unprocessable Entity", errors=["Path could not be resolved"])
        added, removed, context = diff_lines(d.diff)
        line = int(c.get("line") or 0)
        side = c.get("side", "RIGHT")
        if side == "RIGHT":
            ok = line in added or any(new == line for _old, new in context)
        else:
            ok = line in removed or any(old == line for old, _new in context)
        if not ok:
            raise HTTPError(422, "Unprocessable Entity", errors=["Line could not be resolved"])

    async def h_new_review(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        pr = self._pull(request, p)
        data = await self.body(request)
        commit_id = data.get("commit_id") or pr.head_sha
        if commit_id not in pr.commits:
            raise HTTPError(
                422, "Unprocessable Entity", errors=["commit_id is not part of the pull request"]
            )
        comments = data.get("comments") or []
        for c in comments:
            self._check_line(pr, c)
        rid = next(_ids)
        for c in comments:
            pr.review_comments.append(
                self._review_comment(pr, user, c["body"], c, review_id=rid, commit_id=commit_id)
            )
        review = {
            "id": rid,
            "user": self._user(user),
            "body": data.get("body", ""),
            "state": "COMMENTED",
            "commit_id": commit_id,
            "html_url": "",
            "pull_request_url": f"{self._repo_url(pr.repo)}/pulls/{pr.number}",
        }
        pr.reviews.append(review)
        return web.json_response(review)

    async def h_new_review_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        pr = self._pull(request, p)
        data = await self.body(request)
        self._check_line(pr, data)
        comment = self._review_comment(
            pr, user, data["body"], data, commit_id=data.get("commit_id")
        )
        pr.review_comments.append(comment)
        return web.json_response(comment, status=201)

    async def h_reply(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        pr = self._pull(request, p)
        cid = int(p["cid"])
        root = next((c for c in pr.review_comments if c["id"] == cid), None)
        if root is None:
            raise HTTPError(404, "Not Found")
        data = await self.body(request)
        comment = self._review_comment(pr, user, data["body"], root, in_reply_to=cid)
        pr.review_comments.append(comment)
        return web.json_response(comment, status=201)

    def _find_review_comment(self, repo: Repository, cid: int) -> dict[str, Any]:
        for pr in repo.pulls.values():
            for c in pr.review_comments:
                if c["id"] == cid:
                    return c
        raise HTTPError(404, "Not Found")

    async def h_review_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        return web.json_response(self._find_review_comment(repo, int(p["cid"])))

    async def h_edit_review_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        repo = self._repo_of(request, p)
        c = self._find_review_comment(repo, int(p["cid"]))
        if c["user"]["login"] != user.login:
            raise HTTPError(403, "Forbidden")
        c["body"] = (await self.body(request))["body"]
        c["updated_at"] = _now()
        return web.json_response(c)

    async def h_issue_comments(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        pr = repo.pulls.get(int(p["n"]))
        return self.paginate(request, list(pr.issue_comments) if pr else [])

    async def h_new_issue_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        repo = self._repo_of(request, p)
        pr = repo.pulls.get(int(p["n"]))
        if pr is None:
            raise HTTPError(404, "Not Found")
        cid = next(_ids)
        comment = {
            "id": cid,
            "body": (await self.body(request))["body"],
            "user": self._user(user),
            "url": f"{self._repo_url(repo)}/issues/comments/{cid}",
            "html_url": f"https://github.example/{repo.full_name}/pull/{pr.number}#issuecomment-{cid}",
            "created_at": _now(),
            "updated_at": _now(),
        }
        pr.issue_comments.append(comment)
        return web.json_response(comment, status=201)

    def _find_issue_comment(self, repo: Repository, cid: int) -> dict[str, Any]:
        for pr in repo.pulls.values():
            for c in pr.issue_comments:
                if c["id"] == cid:
                    return c
        raise HTTPError(404, "Not Found")

    async def h_issue_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._find_issue_comment(self._repo_of(request, p), int(p["cid"])))

    async def h_edit_issue_comment(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        c = self._find_issue_comment(self._repo_of(request, p), int(p["cid"]))
        if c["user"]["login"] != user.login:
            raise HTTPError(403, "Forbidden")
        c["body"] = (await self.body(request))["body"]
        return web.json_response(c)

    def _issue_json(self, repo: Repository, n: int) -> dict[str, Any]:
        pr = repo.pulls.get(n)
        if pr is not None:
            return {
                "id": n + 700000,
                "number": n,
                "title": pr.title,
                "body": "",
                "state": pr.state,
                "user": self._user(pr.author),
                "labels": [self._label(repo, x) for x in pr.labels],
                "url": f"{self._repo_url(repo)}/issues/{n}",
                "html_url": f"https://github.example/{repo.full_name}/pull/{n}",
                "pull_request": {"url": f"{self._repo_url(repo)}/pulls/{n}"},
            }
        for issue in repo.issues:
            if issue["number"] == n:
                return issue
        raise HTTPError(404, "Not Found")

    async def h_issue(self, request: web.Request, p: dict[str, str]) -> web.Response:
        return web.json_response(self._issue_json(self._repo_of(request, p), int(p["n"])))

    async def h_edit_issue(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        issue = self._issue_json(repo, int(p["n"]))
        data = await self.body(request)
        if "body" in data:
            issue["body"] = data["body"]
        if "labels" in data:
            issue["labels"] = [self._label(repo, x) for x in data["labels"]]
        return web.json_response(issue)

    async def h_issue_events(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        pr = repo.pulls.get(int(p["n"]))
        return self.paginate(request, list(pr.events) if pr else [])

    async def h_add_labels(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        repo = self._repo_of(request, p)
        pr = repo.pulls[int(p["n"])]
        raw = await request.json()
        names = raw if isinstance(raw, list) else raw.get("labels", [])
        for name in names:
            if name not in pr.labels:
                pr.labels.append(name)
                pr.events.append(self._event("labeled", pr, name, user))
        return web.json_response([self._label(repo, x) for x in pr.labels])

    async def h_issues(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        state = request.query.get("state", "open")
        return self.paginate(request, [i for i in repo.issues if i["state"] == state])

    async def h_new_issue(self, request: web.Request, p: dict[str, str]) -> web.Response:
        user = self._auth(request)
        repo = self._repo_of(request, p)
        data = await self.body(request)
        n = len(repo.pulls) + len(repo.issues) + 1
        issue = {
            "id": n + 700000,
            "number": n,
            "title": data["title"],
            "body": data.get("body", ""),
            "state": "open",
            "user": self._user(user),
            "labels": [self._label(repo, x) for x in data.get("labels", [])],
            "url": f"{self._repo_url(repo)}/issues/{n}",
            "html_url": f"https://github.example/{repo.full_name}/issues/{n}",
            "pull_request": None,
        }
        repo.issues.append(issue)
        return web.json_response(issue, status=201)

    async def h_status(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        status = {"sha": p["sha"], **(await self.body(request))}
        repo.statuses.append(status)
        return web.json_response(status | {"id": next(_ids), "url": ""}, status=201)

    async def h_check_run(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        run = {"id": next(_ids), **(await self.body(request)), "url": ""}
        repo.check_runs.append(run)
        return web.json_response(run, status=201)

    async def h_permission(self, request: web.Request, p: dict[str, str]) -> web.Response:
        repo = self._repo_of(request, p)
        login = p["login"]
        if login not in self.users:
            raise HTTPError(404, "Not Found")
        role = repo.collaborators.get(login, "read")
        return web.json_response(
            {
                "permission": _LEGACY.get(role, "none"),
                "role_name": role,
                "user": self._user(self.users[login]),
            }
        )

    # --- what a person sees ----------------------------------------------------------------

    def summaries(self, pr: PullRequest) -> list[dict[str, Any]]:
        return [c for c in pr.issue_comments if "<!-- migbot:summary -->" in c["body"]]

    def roots(self, pr: PullRequest) -> list[dict[str, Any]]:
        return [c for c in pr.review_comments if "in_reply_to_id" not in c]

    def replies(self, pr: PullRequest, root_id: int) -> list[dict[str, Any]]:
        return [c for c in pr.review_comments if c.get("in_reply_to_id") == root_id]
