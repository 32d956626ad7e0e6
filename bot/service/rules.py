"""``GET /rules``: the rule catalogue as a page, where rule ids in review
comments link (``#mig001-field-added-unversioned``) when ``public_url`` is set;
``GET /rules/{code}`` redirects to the rule's section.

The page is docs/rules.md rendered from the shipped catalogue, so it always
matches the rules this service applies.
"""

from __future__ import annotations

import functools
import html
import re

from aiohttp import web
from markdown_it import MarkdownIt

from bot.judge.catalogue import Catalogue, load_catalogue, render_markdown

routes = web.RouteTableDef()

_RULE_HEADING = re.compile(r"<h2>([A-Z]+\d+) ([a-z0-9-]+)</h2>")
_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "pre{background:#f6f8fa;padding:.75rem;overflow-x:auto}code{font-size:90%}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
    "h2{border-top:1px solid #ddd;padding-top:1rem}"
)


@functools.cache
def _catalogue() -> Catalogue:
    return load_catalogue()


@functools.cache
def rules_page() -> str:
    """The whole catalogue as one HTML page, each rule under an anchor of its own."""
    body = (
        MarkdownIt("commonmark", {"html": False})
        .enable("table")
        .render(render_markdown(_catalogue()))
    )
    body = _RULE_HEADING.sub(lambda m: f'<h2 id="{m[1].lower()}-{m[2]}">{m[1]} {m[2]}</h2>', body)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>migbot rules</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


@routes.get("/rules")
async def rules(_request: web.Request) -> web.Response:
    return web.Response(text=rules_page(), content_type="text/html")


@routes.get("/rules/{code}")
async def rule(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    found = _catalogue().find(code) or _catalogue().find(code.upper())
    if found is None:
        raise web.HTTPNotFound(text=f"no rule {html.escape(code)}\n")
    raise web.HTTPFound(f"/rules#{found.id.lower()}-{found.slug}")
