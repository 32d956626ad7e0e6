"""What fields send, read off definitions in the VMSD's own file.

Two things a field's macro leaves open that the same file often settles:

* the bytes of ``VMSTATE_BUFFER(runstate, GlobalState)``, ``sizeof`` a member
  of a struct declared in that file (``uint8_t runstate[32];``): known, a
  buffer carved into smaller fields of the same total is seen as the same bytes;
* the wire form of a field whose ``VMStateInfo`` is written in the same file.

``{ .name = "fsr", .info = &vmstate_fsr, .size = sizeof(target_ulong),
.flags = VMS_SINGLE }`` with ``put_fsr`` calling ``qemu_put_betl`` once and
``get_fsr`` calling ``qemu_get_betl`` once sends exactly what
``VMSTATE_UINTTL(env.fsr, ...)`` sent: a field moved to such an accessor (to
compute the value on save and spread it on load) keeps its bytes. Only an
info whose put and get each move one scalar of the same width is read so;
anything else stays opaque, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.compare.context import FileModels
from bot.scanner.expr import int_value
from bot.scanner.model import FieldModel, FileModel, VmsdModel
from bot.scanner.streamops import Op, StreamFile, stream_file
from bot.scanner.structs import ELEMENT_SIZES, CFile, scan_c

Texts = Mapping[str, tuple[str | None, str | None]]

_SCALARS = {"1": ("uint8", 1), "2": ("uint16", 2), "4": ("uint32", 4), "8": ("uint64", 8)}


_MEMBER_SIZE = re.compile(
    r"^\(?\s*sizeof\s*\(\s*typeof_field\s*\(\s*(?:struct\s+)?(\w+)\s*,\s*(\w+)\s*\)\s*\)"
    r"(?:\s*-\s*0)?\s*\)?$"
)


def with_local_wire(pairs: Sequence[FileModels], texts: Texts) -> list[FileModels]:
    """The pairs with buffer sizes and single-scalar ``VMStateInfo`` fields read off
    the file's own definitions."""
    out: list[FileModels] = []
    for fm in pairs:
        old_text, new_text = texts.get(fm.path, (None, None))
        out.append(
            replace(
                fm,
                old=_resolved(fm.old, old_text, fm.path),
                new=_resolved(fm.new, new_text, fm.path),
            )
        )
    return out


def _custom(f: FieldModel) -> bool:
    """An info named by its variable (the scanner drops ``vmstate_info_`` from QEMU's own)."""
    return f.info is not None and f.info.startswith("vmstate_") and f.vmsd is None


def _sized_here(f: FieldModel) -> bool:
    return f.size is None and f.size_expr is not None and bool(_MEMBER_SIZE.match(f.size_expr))


def _resolved(model: FileModel | None, text: str | None, path: str) -> FileModel | None:
    if model is None or not text:
        return model
    fields = [f for v in model.vmsds for f in v.fields]
    if not any(_custom(f) or _sized_here(f) for f in fields):
        return model
    streams = stream_file(text, path) if any(_custom(f) for f in fields) else None
    cfile = scan_c(text, path) if any(_sized_here(f) for f in fields) else None
    vmsds: list[VmsdModel] = []
    for v in model.vmsds:
        new = tuple(_read(f, streams, cfile) for f in v.fields)
        vmsds.append(v if new == v.fields else replace(v, fields=new))
    return replace(model, vmsds=tuple(vmsds))


def _read(f: FieldModel, streams: StreamFile | None, cfile: CFile | None) -> FieldModel:
    if streams is not None and _custom(f):
        return _as_scalar(f, streams)
    if cfile is not None and _sized_here(f):
        return _with_member_size(f, cfile)
    return f


def _with_member_size(f: FieldModel, cfile: CFile) -> FieldModel:
    """``sizeof(typeof_field(S, m))`` in bytes, when S is declared in this file with a
    member ``m`` of fixed size (no ``#if`` of its own, no pointer)."""
    assert f.size_expr is not None
    m = _MEMBER_SIZE.match(f.size_expr)
    struct = cfile.struct(m.group(1)) if m else None
    member = struct.member(m.group(2)) if struct is not None and m else None
    if member is None or member.pointer or member.bitfield or member.condition or member.nested:
        return f
    size = ELEMENT_SIZES.get(member.type)
    for dim in member.dims:
        n = _int(dim, cfile)
        if n is None or size is None:
            return f
        size *= n
    return f if size is None else replace(f, size=size, size_expr=None)


def _int(expr: str, cfile: CFile) -> int | None:
    """A literal dimension, or one ``#define`` of this file."""
    try:
        return int(expr.strip(), 0)
    except ValueError:
        consts = cfile.constants()
        body = consts.get(expr.strip())
        return int_value(body, consts) if body is not None else None


def _as_scalar(f: FieldModel, streams: StreamFile) -> FieldModel:
    assert f.info is not None
    put, get = streams.infos.get(f.info, (None, None))
    word = _one_scalar(streams, put)
    if word is None or word != _one_scalar(streams, get) or "VMS_SINGLE" not in f.flags:
        return f
    if word == "tl":
        return replace(f, info="uinttl", size=None, size_expr=None)
    info, size = _SCALARS[word]
    return replace(f, info=info, size=size, size_expr=None)


def _one_scalar(streams: StreamFile, function: str | None) -> str | None:
    """The width of the one scalar ``function`` moves, when that is all it does."""
    body = streams.functions.get(function) if function else None
    if body is None or len(body.nodes) != 1 or not isinstance(body.nodes[0], Op):
        return None
    word = body.nodes[0].word
    return word if word == "tl" or word in _SCALARS else None
