"""Fields whose ``VMStateInfo`` is written in the same file: what they send.

``{ .name = "fsr", .info = &vmstate_fsr, .size = sizeof(target_ulong),
.flags = VMS_SINGLE }`` with ``put_fsr`` calling ``qemu_put_betl`` once and
``get_fsr`` calling ``qemu_get_betl`` once sends exactly what
``VMSTATE_UINTTL(env.fsr, ...)`` sent: a field moved to such an accessor (to
compute the value on save and spread it on load) keeps its bytes. Only an
info whose put and get each move one scalar of the same width is read so;
anything else stays opaque, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.compare.context import FileModels
from bot.scanner.model import FieldModel, FileModel, VmsdModel
from bot.scanner.streamops import Op, StreamFile, stream_file

Texts = Mapping[str, tuple[str | None, str | None]]

_SCALARS = {"1": ("uint8", 1), "2": ("uint16", 2), "4": ("uint32", 4), "8": ("uint64", 8)}


def with_custom_infos(pairs: Sequence[FileModels], texts: Texts) -> list[FileModels]:
    """The pairs with each same-file single-scalar ``VMStateInfo`` field read as that scalar."""
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


def _resolved(model: FileModel | None, text: str | None, path: str) -> FileModel | None:
    if model is None or not text:
        return model
    if not any(_custom(f) for v in model.vmsds for f in v.fields):
        return model
    streams = stream_file(text, path)
    vmsds: list[VmsdModel] = []
    for v in model.vmsds:
        fields = tuple(_as_scalar(f, streams) if _custom(f) else f for f in v.fields)
        vmsds.append(v if fields == v.fields else replace(v, fields=fields))
    return replace(model, vmsds=tuple(vmsds))


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
