"""Where a digest goes: a forge issue (one per period, updated in place), an HTML
directory, and the store (so the service shows it and a second run knows).

`post` is the one entry point the CLI and the in-process schedule share. It
holds the ``digest`` lease while it posts, so two processes never race to
create the same week's issue.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.digest.codec import digest_from_json, digest_to_json
from bot.digest.model import Digest
from bot.digest.render import render_html, render_markdown
from bot.errors import MigbotError
from bot.forges.contract import Forge
from bot.settings import Settings
from bot.store import leases
from bot.store.digests import mark_posted, save_digest

LEASE = "digest"
LEASE_SECONDS = 600.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class PublishError(MigbotError):
    """The digest could not be posted (configuration, or the lease is held)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to publish; each part optional."""

    forge: Forge | None = None
    project: str | None = None
    labels: tuple[str, ...] = ()
    html_dir: Path | None = None

    @property
    def anywhere(self) -> bool:
        return bool((self.forge and self.project) or self.html_dir)


@dataclass(frozen=True, slots=True)
class Published:
    issue_url: str | None = None
    page_path: str | None = None


def target_from_settings(
    settings: Settings,
    forges: Mapping[str, Forge],
    *,
    forge: str | None = None,
    project: str | None = None,
    labels: Sequence[str] | None = None,
    html_dir: str | None = None,
) -> Target:
    """The publishing target the settings (or the command line) describe."""
    name = forge or settings.digest_forge
    project = project or settings.digest_project
    chosen: Forge | None = None
    if project:
        if name is None and len(forges) == 1:
            name = next(iter(forges))
        if name is None:
            raise PublishError(
                "digest_project is set but not digest_forge (gitlab or github): "
                "where should the issue go?"
            )
        chosen = forges.get(name)
        if chosen is None:
            raise PublishError(f"the {name} forge is not configured (URL and token)")
    if labels is None:
        labels = [x.strip() for x in settings.digest_labels.split(",") if x.strip()]
    directory = html_dir or settings.digest_html_dir
    return Target(chosen, project, tuple(labels), Path(directory) if directory else None)


def _write(path: Path, text: str) -> None:
    """Atomically: a web server reading the directory never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_page(digest: Digest, directory: Path) -> Path:
    """``digest-<key>.html`` (and .json) for the period; ``index.html`` and
    ``digest.json`` follow the most recent period written."""
    name = _UNSAFE_NAME.sub("_", digest.key)
    page = directory / f"digest-{name}.html"
    html = render_html(digest)
    data = json.dumps(digest_to_json(digest), indent=2, ensure_ascii=False) + "\n"
    _write(page, html)
    _write(directory / f"digest-{name}.json", data)
    latest = directory / "digest.json"
    newest = True
    if latest.exists():
        try:
            newest = digest_from_json(json.loads(latest.read_text())).until <= digest.until
        except (ValueError, KeyError, TypeError):
            newest = True  # unreadable: replace it
    if newest:
        _write(directory / "index.html", html)
        _write(latest, data)
    return page


def publish(digest: Digest, target: Target) -> Published:
    """Post to the forge and/or write the page. The issue is found by its title
    (the period's name), so a second run updates it instead of opening another."""
    url = None
    if target.forge is not None and target.project:
        url = target.forge.upsert_issue(
            target.project, digest.title, render_markdown(digest), target.labels
        )
    page = write_page(digest, target.html_dir) if target.html_dir else None
    return Published(url, str(page) if page else None)


def store(engine: Engine, digest: Digest) -> None:
    save_digest(engine, digest.key, digest.since, digest.until, digest_to_json(digest))


def post(
    engine: Engine | None,
    digest: Digest,
    target: Target,
    *,
    owner: str,
    wait_s: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Published:
    """Store and publish under the ``digest`` lease (waiting up to ``wait_s`` for it)."""
    if engine is None:
        return publish(digest, target)
    deadline = time.monotonic() + wait_s
    while not leases.acquire(engine, LEASE, owner, seconds=LEASE_SECONDS):
        if time.monotonic() >= deadline:
            raise PublishError(
                f"another digest run holds the lease ({leases.holder(engine, LEASE)})"
            )
        sleep(1.0)
    try:
        store(engine, digest)
        published = publish(digest, target)
        mark_posted(
            engine, digest.key, issue_url=published.issue_url, page_path=published.page_path
        )
        return published
    finally:
        leases.release(engine, LEASE, owner)
