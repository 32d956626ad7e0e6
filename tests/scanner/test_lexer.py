"""Tokens carry the text, line and column libclang sees, whichever way they are read."""

from __future__ import annotations

from bot.scanner.lexer import Kind, tokenize

TEXT = """\
/* a comment */
#define VMSTATE_X(f, s) \\
    VMSTATE_UINT32(f, s)
static const char *name = "acme\\
-uart";
int lo\\
ng_name = 0x10; // trailing
"""


def _view(text: str) -> list[tuple[str, str, int, int, bool]]:
    return [(t.kind.name, t.text, t.line, t.col, t.directive != 0) for t in tokenize(text, "a.c")]


def test_splices_comments_and_directives() -> None:
    toks = _view(TEXT)
    assert toks[:4] == [
        ("PUNCT", "#", 2, 1, True),
        ("IDENT", "define", 2, 2, True),
        ("IDENT", "VMSTATE_X", 2, 9, True),
        ("PUNCT", "(", 2, 18, True),
    ]
    # The continued line still belongs to the directive.
    assert ("IDENT", "VMSTATE_UINT32", 3, 5, True) in toks
    # A splice inside a string or an identifier is not part of the token.
    assert ("LITERAL", '"acme-uart"', 4, 27, False) in toks
    assert ("IDENT", "long_name", 6, 5, False) in toks
    assert all(kind != Kind.COMMENT.name for kind, *_ in toks)
    assert toks[-1] == ("PUNCT", ";", 7, 15, False)


def test_crlf_lines_are_numbered_as_libclang_does() -> None:
    assert _view(TEXT.replace("\n", "\r\n")) == _view(TEXT)
