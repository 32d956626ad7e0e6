"""GitLab through python-gitlab: merge requests, discussions, labels, members.

Every call goes through the real client (auth, pagination by ``Link``
headers, 429 with ``Retry-After`` and retries with backoff on 5xx and
timeouts). Positions for inline discussions come from the MR's ``diff_refs``.
"""

from __future__ import annotations

import difflib
import functools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError, GitlabHttpError

from bot.change import FileChange, FileStatus
from bot.forges.contract import (
    ForgeChange,
    ForgeError,
    LabelEvent,
    MergeRequestInfo,
    PublishResult,
    TreeCache,
    forge_change,
)
from bot.forges.diff import PatchError, parse_hunks
from bot.forges.events import MergeRequestRef
from bot.forges.fence import guard
from bot.review.reconcile import (
    BotNote,
    NoteAction,
    NoteKind,
    Op,
    ReviewPlan,
    Verdict,
    finding_of,
    is_summary,
)

MAINTAINER_ACCESS = 40
_STATES = {"opened": "open", "locked": "open", "closed": "closed", "merged": "merged"}


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _hunks_from_texts(old: str | None, new: str | None) -> str:
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True), n=3
        )
    )


class GitLabForge:
    """The `Forge` for one GitLab instance."""

    name = "gitlab"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        bot_username: str | None = None,
        mirror: str | None = None,
        tree_cache: TreeCache | None = None,
        fetch_threads: int = 8,
        diff_refs_wait: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0),
    ) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._retries = retries
        self._bot = bot_username
        self._mirror = mirror
        self._cache = tree_cache or TreeCache()
        self._local = threading.local()
        self._fetch_pool = ThreadPoolExecutor(fetch_threads, thread_name_prefix="gitlab-fetch")
        self._diff_refs_wait = diff_refs_wait

    def close(self) -> None:
        self._fetch_pool.shutdown(wait=False, cancel_futures=True)

    # --- plumbing ------------------------------------------------------------

    @property
    def gl(self) -> gitlab.Gitlab:
        """One client per thread: requests sessions are not shared across threads."""
        client = getattr(self._local, "gl", None)
        if client is None:
            client = gitlab.Gitlab(
                self._url,
                private_token=self._token,
                timeout=self._timeout,
                retry_transient_errors=True,
                per_page=100,
                user_agent="migbot",
            )
            self._local.gl = client
        return client

    def _get(self, path: str, **query: Any) -> Any:
        try:
            return self.gl.http_get(path, query_data=query, max_retries=self._retries)
        except GitlabError as exc:
            raise ForgeError(f"GET {path}: {exc}") from exc

    def _list(self, path: str, **query: Any) -> list[dict[str, Any]]:
        try:
            result = self.gl.http_list(
                path, query_data=query, get_all=True, max_retries=self._retries
            )
        except GitlabError as exc:
            raise ForgeError(f"GET {path}: {exc}") from exc
        return [dict(item) for item in result]

    def _post(self, path: str, data: dict[str, Any]) -> Any:
        """A POST that sets state (a commit status): the same request twice is harmless."""
        try:
            with guard():
                return self.gl.http_post(path, post_data=data, max_retries=self._retries)
        except GitlabError as exc:
            raise ForgeError(f"POST {path}: {exc}") from exc

    def _create(self, path: str, data: dict[str, Any], landed: Callable[[], Any]) -> Any:
        """A POST that creates something people see (a note, a thread, an issue).

        Never re-sent blindly: after a timeout, a dropped connection or a 5xx the
        request may have been applied, so ``landed()`` (which re-reads the merge
        request and looks for the bot's marker) decides whether to send it again.
        Returns the forge's answer, or what ``landed()`` found."""
        error: Exception | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(min(0.1 * 2**attempt, 2.0))
            with guard():
                if error is not None:
                    found = landed()
                    if found:
                        return found
                try:
                    # 429 is still retried by python-gitlab: it was not applied.
                    return self.gl.http_post(
                        path,
                        post_data=data,
                        retry_transient_errors=False,
                        max_retries=self._retries,
                    )
                except GitlabHttpError as exc:
                    if (exc.response_code or 500) < 500:
                        raise ForgeError(f"POST {path}: {exc}") from exc
                    error = exc
                except (GitlabError, requests.exceptions.RequestException) as exc:
                    error = exc
        raise ForgeError(f"POST {path}: outcome unclear after {self._retries + 1} tries: {error}")

    def _put(self, path: str, data: dict[str, Any] | None = None, **query: Any) -> Any:
        try:
            with guard():
                return self.gl.http_put(
                    path, post_data=data or {}, query_data=query, max_retries=self._retries
                )
        except GitlabError as exc:
            raise ForgeError(f"PUT {path}: {exc}") from exc

    @staticmethod
    def _project(ref: MergeRequestRef) -> str:
        return str(ref.project_id) if ref.project_id is not None else _q(ref.project)

    def _mr_path(self, ref: MergeRequestRef) -> str:
        return f"/projects/{self._project(ref)}/merge_requests/{ref.number}"

    def bot_username(self) -> str:
        if self._bot is None:
            user = self._get("/user")
            self._bot = str(user["username"])
        return self._bot

    def read_file(self, ref: MergeRequestRef, sha: str, path: str) -> str | None:
        """A file's text at ``sha``; None when it does not exist there."""
        api = f"/projects/{self._project(ref)}/repository/files/{_q(path)}/raw"
        try:
            response = self.gl.http_get(
                api, query_data={"ref": sha}, raw=True, max_retries=self._retries
            )
        except GitlabHttpError as exc:
            if exc.response_code == 404:
                return None
            raise ForgeError(f"GET {api}: {exc}") from exc
        except GitlabError as exc:
            raise ForgeError(f"GET {api}: {exc}") from exc
        if isinstance(response, dict):  # a JSON file is still a file
            return json.dumps(response)
        return _decode(response.content)

    # --- reading -------------------------------------------------------------

    def _merge_request(self, ref: MergeRequestRef) -> dict[str, Any]:
        mr: dict[str, Any] = self._get(self._mr_path(ref))
        for delay in self._diff_refs_wait:
            refs = mr.get("diff_refs") or {}
            if refs.get("base_sha") and refs.get("head_sha"):
                break
            time.sleep(delay)  # GitLab computes the MR diff asynchronously after a push
            mr = self._get(self._mr_path(ref))
        refs = mr.get("diff_refs") or {}
        if not (refs.get("base_sha") and refs.get("head_sha")):
            raise ForgeError(f"{ref.key}: diff_refs not ready")
        return mr

    def info(self, ref: MergeRequestRef, mr: dict[str, Any] | None = None) -> MergeRequestInfo:
        mr = mr or self._merge_request(ref)
        refs = mr["diff_refs"]
        author = mr.get("author") or {}
        return MergeRequestInfo(
            ref=ref,
            title=str(mr.get("title") or ""),
            author=author.get("username"),
            url=mr.get("web_url"),
            state=_STATES.get(str(mr.get("state")), "open"),
            labels=tuple(str(x) for x in mr.get("labels") or ()),
            base_sha=refs["base_sha"],
            head_sha=refs["head_sha"],
            start_sha=refs.get("start_sha"),
        )

    def _diffs(self, ref: MergeRequestRef) -> list[dict[str, Any]]:
        try:
            return self._list(f"{self._mr_path(ref)}/diffs")
        except ForgeError as exc:
            cause = exc.__cause__
            if isinstance(cause, GitlabHttpError) and cause.response_code == 404:
                # GitLab before 15.7: the deprecated /changes endpoint
                changes = self._get(f"{self._mr_path(ref)}/changes")
                return [dict(c) for c in changes.get("changes", [])]
            raise

    def get_change(self, ref: MergeRequestRef) -> ForgeChange:
        mr = self._merge_request(ref)
        info = self.info(ref, mr)
        diffs = self._diffs(ref)

        def fetch(sha: str, path: str | None) -> str | None:
            return None if path is None else self.read_file(ref, sha, path)

        jobs = []
        for d in diffs:
            old_path = None if d.get("new_file") else d.get("old_path")
            new_path = None if d.get("deleted_file") else d.get("new_path")
            jobs.append(
                (
                    d,
                    old_path,
                    new_path,
                    self._fetch_pool.submit(fetch, info.base_sha, old_path),
                    self._fetch_pool.submit(fetch, info.head_sha, new_path),
                )
            )
        files: list[FileChange] = []
        notes: list[str] = []
        base_known: dict[str, str | None] = {}
        head_known: dict[str, str | None] = {}
        for d, old_path, new_path, old_future, new_future in jobs:
            old_text, new_text = old_future.result(), new_future.result()
            if old_path:
                base_known[old_path] = old_text
            if new_path:
                head_known[new_path] = new_text
            if d.get("new_file"):
                status = FileStatus.ADDED
            elif d.get("deleted_file"):
                status = FileStatus.DELETED
            elif d.get("renamed_file"):
                status = FileStatus.RENAMED
            else:
                status = FileStatus.MODIFIED
            patch = str(d.get("diff") or "")
            binary = patch.startswith("Binary files") or (
                "\0" in (old_text or "") or "\0" in (new_text or "")
            )
            if not patch.strip() and not binary and (d.get("too_large") or d.get("collapsed")):
                patch = _hunks_from_texts(old_text, new_text)
                notes.append(f"{new_path or old_path}: diff too large for GitLab; recomputed")
            try:
                hunks = () if binary else parse_hunks(patch)
            except PatchError as exc:
                notes.append(f"{new_path or old_path}: {exc}")
                hunks = parse_hunks(_hunks_from_texts(old_text, new_text))
            files.append(
                FileChange(
                    old_path=old_path,
                    new_path=new_path,
                    status=status,
                    hunks=hunks,
                    old_text=old_text,
                    new_text=new_text,
                    binary=binary,
                )
            )
        return forge_change(
            f"gitlab:{ref.project}!{ref.number}",
            info,
            files,
            notes,
            read=lambda sha, path: self.read_file(ref, sha, path),
            mirror=self._mirror,
            cache=self._cache,
            base_known=base_known,
            head_known=head_known,
        )

    def list_bot_notes(self, ref: MergeRequestRef) -> list[BotNote]:
        bot = self.bot_username()
        out: list[BotNote] = []
        for d in self._list(f"{self._mr_path(ref)}/discussions"):
            notes = [n for n in d.get("notes") or [] if not n.get("system")]
            if not notes:
                continue
            first = notes[0]
            if (first.get("author") or {}).get("username") != bot:
                continue
            body = str(first.get("body") or "")
            if is_summary(body):
                out.append(BotNote(str(first["id"]), NoteKind.SUMMARY, body, thread_id=d["id"]))
                continue
            fingerprint = finding_of(body)
            if fingerprint is None:
                continue
            human = any((n.get("author") or {}).get("username") != bot for n in notes[1:])
            resolvable = [n for n in notes if n.get("resolvable")]
            resolved = bool(resolvable) and all(n.get("resolved") for n in resolvable)
            out.append(
                BotNote(
                    str(first["id"]),
                    NoteKind.FINDING,
                    body,
                    thread_id=str(d["id"]),
                    fingerprint=fingerprint,
                    resolved=resolved,
                    human_replied=human,
                )
            )
        return out

    def _bot_said_last(self, ref: MergeRequestRef, thread_id: str, body: str) -> bool:
        return self._last_bot_body(ref, thread_id) == body

    def _last_bot_body(self, ref: MergeRequestRef, thread_id: str) -> str | None:
        """The body of the bot's latest note in a discussion (None when none)."""
        bot = self.bot_username()
        for d in self._list(f"{self._mr_path(ref)}/discussions"):
            if str(d.get("id")) != thread_id:
                continue
            mine = [
                n for n in d.get("notes") or [] if (n.get("author") or {}).get("username") == bot
            ]
            return str(mine[-1].get("body") or "") if mine else None
        return None

    # --- writing -------------------------------------------------------------

    def _create_thread(self, ref: MergeRequestRef, info: MergeRequestInfo, a: NoteAction) -> None:
        assert a.placement is not None
        assert a.body is not None
        p = a.placement
        position: dict[str, Any] = {
            "position_type": "text",
            "base_sha": info.base_sha,
            "start_sha": info.start_sha or info.base_sha,
            "head_sha": info.head_sha,
            "old_path": p.old_path,
            "new_path": p.path,
        }
        if p.new_line is not None:
            position["new_line"] = p.new_line
        if p.old_line is not None:
            position["old_line"] = p.old_line
        path = f"{self._mr_path(ref)}/discussions"

        def landed() -> bool:
            return any(n.fingerprint == a.fingerprint for n in self.list_bot_notes(ref))

        try:
            self._create(path, {"body": a.body, "position": position}, landed)
        except ForgeError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, GitlabHttpError) and cause.response_code in (400, 422)):
                raise
            # GitLab refused the position: keep the finding as a file-level note.
            line = p.new_line if p.new_line is not None else p.old_line
            body = f"{a.body}\n\n(on `{p.path}` line {line}; the diff position was refused)"
            self._create(path, {"body": body}, landed)

    def resolve_notes(self, ref: MergeRequestRef, plan: ReviewPlan) -> int:
        done = 0
        for a in plan.inline:
            if a.op not in (Op.RESOLVE, Op.REOPEN) or a.note is None or a.note.thread_id is None:
                continue
            discussion = f"{self._mr_path(ref)}/discussions/{a.note.thread_id}"
            if a.op is Op.REOPEN and a.body is not None:
                self._put(f"{discussion}/notes/{a.note.note_id}", {"body": a.body})
            if a.reply:
                reply = a.reply
                thread = a.note.thread_id
                self._create(
                    f"{discussion}/notes",
                    {"body": reply},
                    functools.partial(self._bot_said_last, ref, thread, reply),
                )
            self._put(discussion, resolved="true" if a.op is Op.RESOLVE else "false")
            done += 1
        return done

    def publish(
        self, ref: MergeRequestRef, info: MergeRequestInfo, plan: ReviewPlan
    ) -> PublishResult:
        s = plan.summary
        if s.op is Op.CREATE and s.body is not None:
            self._create(
                f"{self._mr_path(ref)}/notes",
                {"body": s.body},
                lambda: any(n.kind is NoteKind.SUMMARY for n in self.list_bot_notes(ref)),
            )
        elif s.op is Op.UPDATE and s.body is not None and s.note is not None:
            self._put(f"{self._mr_path(ref)}/notes/{s.note.note_id}", {"body": s.body})
        for a in plan.inline:
            if a.op is Op.CREATE:
                self._create_thread(ref, info, a)
            elif a.op is Op.UPDATE and a.note is not None and a.note.thread_id and a.body:
                self._put(
                    f"{self._mr_path(ref)}/discussions/{a.note.thread_id}/notes/{a.note.note_id}",
                    {"body": a.body},
                )
        self.resolve_notes(ref, plan)
        return PublishResult(
            summary=str(s.op),
            created=plan.count(Op.CREATE),
            updated=plan.count(Op.UPDATE),
            resolved=plan.count(Op.RESOLVE),
            reopened=plan.count(Op.REOPEN),
            kept=plan.count(Op.KEEP),
        )

    def label_events(self, ref: MergeRequestRef) -> list[LabelEvent]:
        out = []
        for e in self._list(f"{self._mr_path(ref)}/resource_label_events"):
            label = e.get("label") or {}
            user = e.get("user") or {}
            if not label.get("name"):
                continue
            out.append(
                LabelEvent(
                    label=str(label["name"]),
                    action=str(e.get("action")),
                    user=user.get("username"),
                    user_id=user.get("id"),
                )
            )
        return out

    def is_maintainer(self, ref: MergeRequestRef, user: str, user_id: int | None = None) -> bool:
        if user_id is None:
            found = self._list("/users", username=user)
            if not found:
                return False
            user_id = int(found[0]["id"])
        api = f"/projects/{self._project(ref)}/members/all/{user_id}"
        try:
            member = self.gl.http_get(api, max_retries=self._retries)
        except GitlabHttpError as exc:
            if exc.response_code == 404:
                return False
            raise ForgeError(f"GET {api}: {exc}") from exc
        except GitlabError as exc:
            raise ForgeError(f"GET {api}: {exc}") from exc
        if not isinstance(member, dict):
            return False
        return int(member.get("access_level") or 0) >= MAINTAINER_ACCESS

    def set_verdict(
        self, ref: MergeRequestRef, sha: str, verdict: Verdict, description: str
    ) -> None:
        self._post(
            f"/projects/{self._project(ref)}/statuses/{sha}",
            {
                "state": "failed" if verdict is Verdict.FAIL else "success",
                "name": "migbot",
                "description": description[:140],
            },
        )

    def add_labels(self, ref: MergeRequestRef, labels: Sequence[str]) -> None:
        self._put(self._mr_path(ref), {"add_labels": ",".join(labels)})

    def upsert_issue(self, project: str, title: str, body: str, labels: Sequence[str]) -> str:
        base = f"/projects/{_q(project)}/issues"
        for issue in self._list(base, search=title, state="opened"):
            if issue.get("title") == title:
                updated = self._put(
                    f"{base}/{issue['iid']}", {"description": body, "add_labels": ",".join(labels)}
                )
                return str(updated.get("web_url") or issue.get("web_url"))

        def landed() -> dict[str, Any] | None:
            for issue in self._list(base, search=title, state="opened"):
                if issue.get("title") == title:
                    return issue
            return None

        created = self._create(
            base, {"title": title, "description": body, "labels": ",".join(labels)}, landed
        )
        return str(created.get("web_url"))
