"""GitHub through PyGithub: pull requests, review comments, permissions, checks.

Auth is a token or a GitHub App (JWT -> installation token, refreshed by
PyGithub). Retries: urllib3 with backoff on 5xx, 429 and ``Retry-After``;
PyGithub's `GithubRetry` waits out primary and secondary rate limits.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from github import Auth, Github, GithubException, UnknownObjectException
from github.GithubRetry import GithubRetry

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
    NoteKind,
    Op,
    ReviewPlan,
    Verdict,
    finding_of,
    is_summary,
    thread_state,
)

MAINTAINER_ROLES = frozenset({"admin", "maintain"})
_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.ADDED,
}


def _edit_review_comment(pr: Any, comment_id: int, body: str) -> None:
    pr.get_review_comment(comment_id).edit(body)


class _NoBlindPostRetry(GithubRetry):
    """PyGithub's retry, except that a POST is not sent again after a 5xx or a
    read timeout: it may have been applied (a second comment). Rate limits
    (403, 429) are still waited out: those requests were refused."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method == "POST" and status_code >= 500:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method: str | None = None, *args: Any, **kwargs: Any) -> Any:
        error = kwargs.get("error", args[2] if len(args) > 2 else None)
        if method == "POST" and error is not None and self._is_read_error(error):
            raise error
        return super().increment(method, *args, **kwargs)


class GitHubForge:
    """The `Forge` for github.com or a GitHub Enterprise API."""

    name = "github"

    def __init__(
        self,
        api_url: str = "https://api.github.com",
        *,
        token: str | None = None,
        app_id: int | None = None,
        app_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        secondary_rate_wait: float = 60.0,
        bot_login: str | None = None,
        mirror: str | None = None,
        tree_cache: TreeCache | None = None,
        fetch_threads: int = 8,
    ) -> None:
        if not token and not (app_id and app_key):
            raise ValueError("GitHub needs a token or an App id and private key")
        self._api = api_url.rstrip("/")
        self._token = token
        self._app_id = app_id
        self._app_key = app_key
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._secondary_wait = secondary_rate_wait
        self._bot = bot_login
        self._mirror = mirror
        self._cache = tree_cache or TreeCache()
        self._local = threading.local()
        self._fetch_pool = ThreadPoolExecutor(fetch_threads, thread_name_prefix="github-fetch")

    def close(self) -> None:
        self._fetch_pool.shutdown(wait=False, cancel_futures=True)

    # --- plumbing ------------------------------------------------------------

    def _retry(self) -> GithubRetry:
        return _NoBlindPostRetry(
            total=self._retries,
            backoff_factor=self._backoff,
            status_forcelist=[429, 500, 502, 503, 504],
            secondary_rate_wait=self._secondary_wait,
            respect_retry_after_header=True,
        )

    def _make(self, auth: Auth.Auth) -> Github:
        return Github(
            auth=auth,
            base_url=self._api,
            timeout=int(self._timeout),
            retry=self._retry(),
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
            user_agent="migbot",
        )

    def client(self, ref: MergeRequestRef | None = None) -> Github:
        """A client for this thread (and installation, for an App)."""
        clients: dict[int | None, Github] = getattr(self._local, "clients", None) or {}
        self._local.clients = clients
        installation = ref.installation_id if ref is not None and self._app_id else None
        gh = clients.get(installation)
        if gh is None:
            if self._token and not self._app_id:
                gh = self._make(Auth.Token(self._token))
            else:
                assert self._app_id
                assert self._app_key
                app = Auth.AppAuth(self._app_id, self._app_key)
                if installation is None:
                    raise ForgeError("a GitHub App needs the installation id of the event")
                gh = self._make(app.get_installation_auth(installation))
            clients[installation] = gh
        return gh

    def _app_slug(self) -> str:
        assert self._app_id
        assert self._app_key
        gh = self._make(Auth.AppAuth(self._app_id, self._app_key))
        _, data = gh.requester.requestJsonAndCheck("GET", "/app")
        return str(data["slug"])

    def bot_username(self) -> str:
        if self._bot is None:
            try:
                if self._app_id:
                    self._bot = f"{self._app_slug()}[bot]"
                else:
                    self._bot = str(self.client().get_user().login)
            except GithubException as exc:
                raise ForgeError(f"cannot learn the bot's login: {exc}") from exc
        return self._bot

    def _repo(self, ref: MergeRequestRef) -> Any:
        return self.client(ref).get_repo(ref.project)

    def _create(self, post: Callable[[], Any], landed: Callable[[], Any]) -> Any:
        """Create something people see, never twice: after an unclear outcome
        (5xx, timeout, dropped connection) ``landed()`` looks for it first."""
        error: Exception | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(min(self._backoff * 2**attempt, 5.0))
            with guard():
                if error is not None:
                    found = landed()
                    if found:
                        return found
                try:
                    return post()
                except GithubException as exc:
                    if exc.status < 500:
                        raise
                    error = exc
                except requests.exceptions.RequestException as exc:
                    error = exc
        raise ForgeError(f"outcome unclear after {self._retries + 1} tries: {error}")

    def _edit(self, action: Callable[[], Any]) -> Any:
        """An edit (PATCH): the same twice is harmless, but only under the lease."""
        with guard():
            return action()

    def _bot_replied_last(self, ref: MergeRequestRef, comment_id: int, body: str) -> bool:
        return self._last_bot_reply(ref, comment_id) == body

    def _last_bot_reply(self, ref: MergeRequestRef, comment_id: int) -> str | None:
        bot = self.bot_username()
        pr = self._repo(ref).get_pull(ref.number)
        mine = [
            c.body or ""
            for c in pr.get_review_comments()
            if c.raw_data.get("in_reply_to_id") == comment_id and c.user and c.user.login == bot
        ]
        return mine[-1] if mine else None

    def _has_note(self, ref: MergeRequestRef, test: Callable[[BotNote], bool]) -> bool:
        return any(test(n) for n in self.list_bot_notes(ref))

    def read_file(self, ref: MergeRequestRef, sha: str, path: str) -> str | None:
        """A file's text at ``sha``; None when it does not exist there."""
        repo = self._repo(ref)
        try:
            content = repo.get_contents(path, ref=sha)
        except UnknownObjectException:
            return None
        except GithubException as exc:
            raise ForgeError(f"contents {path}@{sha}: {exc}") from exc
        if isinstance(content, list):
            return None  # a directory
        if content.encoding == "base64" and content.content is not None:
            data = base64.b64decode(content.content)
        else:  # over 1 MB: the contents API leaves it out; the blob API has it
            blob = repo.get_git_blob(content.sha)
            data = base64.b64decode(blob.content)
        return data.decode("utf-8", errors="replace")

    # --- reading -------------------------------------------------------------

    def get_change(self, ref: MergeRequestRef) -> ForgeChange:
        try:
            repo = self._repo(ref)
            pr = repo.get_pull(ref.number)
            files = list(pr.get_files())
        except GithubException as exc:
            raise ForgeError(f"{ref.key}: {exc}") from exc
        state = "merged" if pr.merged else ("open" if pr.state == "open" else "closed")
        info = MergeRequestInfo(
            ref=ref,
            title=pr.title or "",
            author=pr.user.login if pr.user else None,
            url=pr.html_url,
            state=state,
            labels=tuple(label.name for label in pr.labels),
            base_sha=pr.base.sha,
            head_sha=pr.head.sha,
        )

        def fetch(sha: str, path: str | None) -> str | None:
            return None if path is None else self.read_file(ref, sha, path)

        pending = []
        for f in files:
            status = _STATUS.get(f.status, FileStatus.MODIFIED)
            new_path = None if status is FileStatus.DELETED else f.filename
            old_path = None if status is FileStatus.ADDED else (f.previous_filename or f.filename)
            pending.append(
                (
                    f,
                    status,
                    old_path,
                    new_path,
                    self._fetch_pool.submit(fetch, info.base_sha, old_path),
                    self._fetch_pool.submit(fetch, info.head_sha, new_path),
                )
            )
        out: list[FileChange] = []
        notes: list[str] = []
        base_known: dict[str, str | None] = {}
        head_known: dict[str, str | None] = {}
        for f, status, old_path, new_path, old_future, new_future in pending:
            old_text, new_text = old_future.result(), new_future.result()
            if old_path:
                base_known[old_path] = old_text
            if new_path:
                head_known[new_path] = new_text
            patch = f.patch or ""
            binary = not patch and f.changes > 0 and status is not FileStatus.RENAMED
            try:
                hunks = parse_hunks(patch) if patch else ()
            except PatchError as exc:
                notes.append(f"{f.filename}: {exc}")
                hunks = ()
            out.append(
                FileChange(
                    old_path=old_path,
                    new_path=new_path,
                    status=status,
                    hunks=hunks,
                    old_text=old_text,
                    new_text=new_text,
                    binary=binary and "\0" in ((old_text or "") + (new_text or "")),
                )
            )
        return forge_change(
            f"github:{ref.project}#{ref.number}",
            info,
            out,
            notes,
            read=lambda sha, path: self.read_file(ref, sha, path),
            mirror=self._mirror,
            cache=self._cache,
            base_known=base_known,
            head_known=head_known,
        )

    def list_bot_notes(self, ref: MergeRequestRef) -> list[BotNote]:
        bot = self.bot_username()
        try:
            pr = self._repo(ref).get_pull(ref.number)
            issue_comments = list(pr.get_issue_comments())
            review_comments = list(pr.get_review_comments())
        except GithubException as exc:
            raise ForgeError(f"{ref.key}: {exc}") from exc
        out: list[BotNote] = []
        for c in issue_comments:
            if c.user and c.user.login == bot and is_summary(c.body or ""):
                out.append(BotNote(str(c.id), NoteKind.SUMMARY, c.body or ""))
        replies: dict[int, list[Any]] = {}
        for c in review_comments:
            parent = c.raw_data.get("in_reply_to_id")
            if parent is not None:
                replies.setdefault(int(parent), []).append(c)
        for c in review_comments:
            if c.raw_data.get("in_reply_to_id") is not None:
                continue
            if not c.user or c.user.login != bot:
                continue
            fingerprint = finding_of(c.body or "")
            if fingerprint is None:
                continue
            thread = replies.get(c.id, [])
            human = any(r.user is None or r.user.login != bot for r in thread)
            state = thread_state(r.body or "" for r in thread if r.user and r.user.login == bot)
            out.append(
                BotNote(
                    str(c.id),
                    NoteKind.FINDING,
                    c.body or "",
                    thread_id=str(c.id),
                    fingerprint=fingerprint,
                    resolved=state == "resolved",
                    human_replied=human,
                )
            )
        return out

    # --- writing -------------------------------------------------------------

    def resolve_notes(self, ref: MergeRequestRef, plan: ReviewPlan) -> int:
        """GitHub's REST API cannot resolve a thread: the bot answers it as outdated."""
        pr = self._repo(ref).get_pull(ref.number)
        done = 0
        for a in plan.inline:
            if a.op not in (Op.RESOLVE, Op.REOPEN) or a.note is None:
                continue
            note_id = int(a.note.note_id)
            if a.op is Op.REOPEN and a.body is not None:
                body = a.body
                self._edit(functools.partial(_edit_review_comment, pr, note_id, body))
            if a.reply:
                reply = a.reply
                self._create(
                    functools.partial(pr.create_review_comment_reply, note_id, reply),
                    functools.partial(self._bot_replied_last, ref, note_id, reply),
                )
            done += 1
        return done

    def publish(
        self, ref: MergeRequestRef, info: MergeRequestInfo, plan: ReviewPlan
    ) -> PublishResult:
        try:
            return self._publish(ref, info, plan)
        except GithubException as exc:
            raise ForgeError(f"{ref.key}: publishing failed: {exc}") from exc

    def _publish(
        self, ref: MergeRequestRef, info: MergeRequestInfo, plan: ReviewPlan
    ) -> PublishResult:
        repo = self._repo(ref)
        pr = repo.get_pull(ref.number)
        s = plan.summary
        if s.op is Op.CREATE and s.body is not None:
            summary = s.body
            self._create(
                lambda: pr.create_issue_comment(summary),
                lambda: self._has_note(ref, lambda n: n.kind is NoteKind.SUMMARY),
            )
        elif s.op is Op.UPDATE and s.body is not None and s.note is not None:
            summary, summary_id = s.body, int(s.note.note_id)
            self._edit(lambda: pr.get_issue_comment(summary_id).edit(summary))
        creates = plan.creates()
        if creates:
            comments: list[dict[str, Any]] = []
            for a in creates:
                assert a.placement is not None
                assert a.body is not None
                comments.append(
                    {
                        "path": a.placement.path,
                        "line": a.placement.github_line,
                        "side": a.placement.github_side,
                        "body": a.body,
                    }
                )
            commit = repo.get_commit(info.head_sha)
            wanted = {a.fingerprint for a in creates}
            try:
                # A review is created whole or not at all: one of its threads found
                # means all of them landed.
                self._create(
                    lambda: pr.create_review(
                        commit=commit,
                        body=f"migbot: {len(comments)} new finding(s) at {info.head_sha[:12]}",
                        event="COMMENT",
                        comments=comments,
                    ),
                    lambda: self._has_note(ref, lambda n: n.fingerprint in wanted),
                )
            except GithubException as exc:
                if exc.status != 422:
                    raise
                # One position was refused: post one by one, file-level when refused.
                for a, c in zip(creates, comments, strict=True):
                    self._create_comment(ref, pr, commit, c, a.fingerprint)
        for a in plan.inline:
            if a.op is Op.UPDATE and a.note is not None and a.body is not None:
                body, note_id = a.body, int(a.note.note_id)
                self._edit(functools.partial(_edit_review_comment, pr, note_id, body))
        self.resolve_notes(ref, plan)
        return PublishResult(
            summary=str(s.op),
            created=len(creates),
            updated=plan.count(Op.UPDATE),
            resolved=plan.count(Op.RESOLVE),
            reopened=plan.count(Op.REOPEN),
            kept=plan.count(Op.KEEP),
        )

    def _create_comment(
        self, ref: MergeRequestRef, pr: Any, commit: Any, c: dict[str, Any], fp: str | None
    ) -> None:
        def landed() -> bool:
            return self._has_note(ref, lambda n: n.fingerprint == fp)

        try:
            self._create(
                lambda: pr.create_review_comment(
                    c["body"], commit, c["path"], line=c["line"], side=c["side"]
                ),
                landed,
            )
        except GithubException as one:
            if one.status != 422:
                raise
            self._create(
                lambda: pr.create_review_comment(c["body"], commit, c["path"], subject_type="file"),
                landed,
            )

    def label_events(self, ref: MergeRequestRef) -> list[LabelEvent]:
        try:
            issue = self._repo(ref).get_issue(ref.number)
            events = list(issue.get_events())
        except GithubException as exc:
            raise ForgeError(f"{ref.key}: {exc}") from exc
        out = []
        for e in events:
            if e.event not in ("labeled", "unlabeled") or e.label is None:
                continue
            out.append(
                LabelEvent(
                    label=e.label.name,
                    action="add" if e.event == "labeled" else "remove",
                    user=e.actor.login if e.actor else None,
                )
            )
        return out

    def is_maintainer(self, ref: MergeRequestRef, user: str, user_id: int | None = None) -> bool:
        repo = self._repo(ref)
        try:
            _, data = repo.requester.requestJsonAndCheck(
                "GET", f"{repo.url}/collaborators/{user}/permission"
            )
        except UnknownObjectException:
            return False
        except GithubException as exc:
            raise ForgeError(f"permission of {user}: {exc}") from exc
        role = str(data.get("role_name") or "")
        return role in MAINTAINER_ROLES or data.get("permission") == "admin"

    def set_verdict(
        self, ref: MergeRequestRef, sha: str, verdict: Verdict, description: str
    ) -> None:
        repo = self._repo(ref)
        conclusion = {"pass": "success", "warn": "neutral", "fail": "failure"}[verdict.value]
        with guard():
            self._verdict(repo, sha, verdict, conclusion, description)

    def _verdict(
        self, repo: Any, sha: str, verdict: Verdict, conclusion: str, description: str
    ) -> None:
        if self._app_id:
            repo.create_check_run(
                name="migbot",
                head_sha=sha,
                status="completed",
                conclusion=conclusion,
                output={"title": f"migbot: {verdict.label}", "summary": description},
            )
        else:
            repo.get_commit(sha).create_status(
                state="failure" if verdict is Verdict.FAIL else "success",
                description=description[:140],
                context="migbot",
            )

    def add_labels(self, ref: MergeRequestRef, labels: Sequence[str]) -> None:
        issue = self._repo(ref).get_issue(ref.number)
        with guard():
            issue.add_to_labels(*labels)

    def upsert_issue(self, project: str, title: str, body: str, labels: Sequence[str]) -> str:
        repo = self.client().get_repo(project)
        for issue in repo.get_issues(state="open"):
            if issue.title == title and issue.pull_request is None:
                issue.edit(body=body, labels=sorted({*(lb.name for lb in issue.labels), *labels}))
                return str(issue.html_url)

        def landed() -> Any:
            found = [
                i for i in repo.get_issues(state="open") if i.title == title and not i.pull_request
            ]
            return found[0] if found else None

        created = self._create(
            lambda: repo.create_issue(title=title, body=body, labels=list(labels)), landed
        )
        return str(created.html_url)
