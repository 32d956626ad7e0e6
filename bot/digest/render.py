"""`Digest` -> Markdown (the forge issue), HTML (the page) or JSON. Pure.

Titles, labels and names come from merge-request authors: the HTML template
autoescapes them, the Markdown one escapes what would format, link or mention
(``@name`` in an issue would ping every author each week).
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.digest.chart import TIER_COLOURS, chart_svg
from bot.digest.codec import digest_to_json
from bot.digest.model import TIER_ORDER, Digest
from bot.digest.period import Period

FORMATS = ("markdown", "html", "json")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
"""Every character that could end a line (or hide one): a crafted title must not
start a new line of its own, where ``/close`` would be a quick action."""


def marker(key: str) -> str:
    """The hidden line that says which period an issue body is the digest of."""
    return f"<!-- migbot:digest:{key} -->"


def md(text: object) -> str:
    """Plain text made inert in Markdown: no formatting, links, HTML or mentions."""
    # ``&`` first, so that an entity such as ``&lt;`` in a title stays literal text.
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text).replace("&", "&amp;"))
    escaped = _LINE_BREAKS.sub(" ", escaped)
    return escaped.replace("@", "@\u200b")


def code(text: object) -> str:
    """An inline code span (a backtick inside would end it early)."""
    return "`" + _LINE_BREAKS.sub(" ", str(text).replace("`", "'")) + "`"


def safe_url(url: object) -> str | None:
    """Only http(s) links: a forge-supplied ``javascript:`` URL is dropped."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.digest", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
    env.filters["code"] = code
    env.filters["safe_url"] = safe_url
    return env


def _context(digest: Digest) -> dict[str, object]:
    return {
        "d": digest,
        "span": Period(digest.since, digest.until).span,
        "marker": marker(digest.key),
        # The "unknown" column only when some change had no tier.
        "week_tiers": [
            t for t in TIER_ORDER if t != "unknown" or any(w.count(t) for w in digest.weeks)
        ],
        "colours": TIER_COLOURS,
    }


def render_markdown(digest: Digest) -> str:
    return _env().get_template("digest.md.j2").render(_context(digest))


def render_html(digest: Digest) -> str:
    context = _context(digest)
    context["chart"] = Markup(chart_svg(digest.weeks))  # noqa: S704 - built with escape()
    return _env().get_template("digest.html.j2").render(context)


def render_json(digest: Digest) -> str:
    return json.dumps(digest_to_json(digest), indent=2, ensure_ascii=False) + "\n"


def render(digest: Digest, fmt: str) -> str:
    if fmt == "markdown":
        return render_markdown(digest)
    if fmt == "html":
        return render_html(digest)
    if fmt == "json":
        return render_json(digest)
    raise ValueError(f"unknown digest format {fmt!r}")
