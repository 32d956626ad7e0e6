"""Hand-written streams: a change to what ``qemu_put_*``/``qemu_get_*`` code sends.

A ``SaveVMHandlers`` section, a custom ``VMStateInfo`` or a virtio transport's
``save_config`` writes its bytes by hand; nothing describes them but the code.
The section version (``register_savevm_live``'s argument) is the only thing
that tells an older stream from a newer one, and ``VMStateInfo`` and
transport streams have none at all.

Three things are reported, each only when it is certain from the text:

* the save side now writes other bytes (an element added, removed, widened or
  moved outside any conditional) and the section version did not change;
* the save and load sides agreed before the change and no longer do;
* the section version was raised (old QEMUs refuse the new stream).

A conditional element (``if (s->migrate_foo) qemu_put_be32(...)``) is taken
to be gated, and a load branch on ``version_id`` for a newer version is
versioning: both are silent. Names are not on the wire: a rewrite that keeps
the sequence of widths (locals renamed, a helper split out) is silent.

Migration core code writes the framing of the whole stream: a new element
there that is sent unless a flag is set, where the flag is set for old
machine types of some versioned families and not others, is reported too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.change import Change, FileChange, FileStatus
from bot.compare import facts as F
from bot.findings import Side
from bot.scanner.model import FileModel, VmsdModel
from bot.scanner.streamops import (
    Block,
    Op,
    Pairing,
    StreamFile,
    StreamFunction,
    holds,
    stream_file,
    words,
    words_with_ops,
)

_TOUCHES_STREAM = re.compile(
    r"qemu_(put|get)_|register_savevm|version_id|timer_(put|get)|vmstate_(save|load)_state"
    r"|SaveVMHandlers|VMStateInfo|\(\s*f\s*[,)]|,\s*f\s*\)"
)
_MARK = re.compile(r".*\{$|^\}$")

_CORE_STREAM = "migration/savevm.c"
"""The file that writes the framing of the migration stream (sections, commands)."""

_FAMILY_FILES = {
    "pc-i440fx": "hw/i386/pc_piix.c",
    "pc-q35": "hw/i386/pc_q35.c",
    "pseries": "hw/ppc/spapr.c",
    "s390-ccw-virtio": "hw/s390x/s390-virtio-ccw.c",
    "virt (arm)": "hw/arm/virt.c",
}
"""Where each versioned machine family of a KVM-capable target defines its versions."""
_MACHINE_VERSION = re.compile(
    r"machine_v?(\d+)_(\d+)\w*\s*\(|DEFINE_\w*MACHINE\w*\(\s*(\d+),\s*(\d+)"
)


Reader = Callable[[str], str | None]


Models = Mapping[str, tuple[FileModel | None, FileModel | None]]
"""path -> (old, new) scanner model, for the VMSDs a stream saves with vmstate_save_state."""


def stream_facts(
    change: Change, head: Reader | None = None, models: Models | None = None
) -> list[F.Fact]:
    """``head`` reads a file of the head tree, for the machine files of the
    core-stream check (None: that check is skipped)."""
    out: list[F.Fact] = []
    for fc in change.files:
        if not _worth_reading(fc):
            continue
        assert fc.old_text is not None and fc.new_text is not None
        old, new = stream_file(fc.old_text, fc.path), stream_file(fc.new_text, fc.path)
        if not new.functions or (
            old.functions == new.functions and _versions(old) == _versions(new)
        ):
            continue
        seen: set[int | None] = set()
        lines = (fc.changed_old_lines(), fc.changed_new_lines())
        vmsds = (models or {}).get(fc.path, (None, None))
        for f in _unit_facts(fc.path, old, new, lines, vmsds):
            if f.line not in seen:  # a helper's change seen through each caller: one finding
                seen.add(f.line)
                out.append(f)
        if fc.path == _CORE_STREAM and head is not None:
            out.extend(_core_facts(fc, old, new, change, head))
    return out


def _worth_reading(fc: FileChange) -> bool:
    if fc.status is not FileStatus.MODIFIED or fc.old_text is None or fc.new_text is None:
        return False
    if not fc.path.endswith(".c"):
        return False
    return any(
        ln.kind in "+-" and _TOUCHES_STREAM.search(ln.text) for h in fc.hunks for ln in h.lines
    )


def _versions(sf: StreamFile) -> list[tuple[str | None, int | None]]:
    return [(p.section, p.version) for p in sf.pairings]


def _match(old: StreamFile, p: Pairing) -> Pairing | None:
    for o in old.pairings:
        if (o.save, o.load) == (p.save, p.load) or (
            o.section is not None and o.section == p.section and o.how == p.how
        ):
            return o
    return None


def _unit_facts(
    path: str,
    old: StreamFile,
    new: StreamFile,
    lines: tuple[frozenset[int], frozenset[int]],
    vmsds: tuple[FileModel | None, FileModel | None] = (None, None),
) -> Iterable[F.Fact]:
    for p in new.pairings:
        o = _match(old, p)
        if o is None:
            continue  # a new stream: nothing older sends it
        name = p.section
        if o.version is not None and p.version is not None and p.version > o.version:
            yield F.StreamVersionBumped(
                path=path,
                line=p.version_line,
                vmsd=name,
                subject=name,
                old=o.version,
                new=p.version,
                how=p.how,
            )
            continue
        s_old, s_new = _fn(old, o.save), _fn(new, p.save)
        l_old, l_new = _fn(old, o.load), _fn(new, p.load)
        if s_old and s_new and l_old and l_new:
            before = _same(
                [w for w, _ in _expanded(words_with_ops(s_old.nodes), vmsds[0])],
                [w for w, _ in _expanded(words_with_ops(l_old.nodes, o.version), vmsds[0])],
            )
            after = _first_difference(
                _expanded(words_with_ops(s_new.nodes), vmsds[1]),
                _expanded(words_with_ops(l_new.nodes, p.version), vmsds[1]),
            )
            if not before and after is None:
                continue  # the load catches up with the save: a fix
            if before and after is not None:
                yield F.StreamOutOfSync(
                    path=path,
                    line=after[0],
                    vmsd=name,
                    subject=s_new.name,
                    save=s_new.name,
                    load=l_new.name,
                    what=after[1],
                )
                continue
        for fo, fn, version in ((s_old, s_new, None), (l_old, l_new, p.version)):
            if fo is None or fn is None:
                continue
            change = _changed(
                _expanded(words_with_ops(fo.nodes, version), vmsds[0]),
                _expanded(words_with_ops(fn.nodes, version), vmsds[1]),
                lines,
            )
            if change is not None:
                yield F.StreamChanged(
                    path=path,
                    line=change[0],
                    side=change[2],
                    vmsd=name,
                    subject=fn.name,
                    function=fn.name,
                    what=change[1],
                    version=p.version,
                )
                break
        else:
            if l_old is not None and l_new is not None and p.version is not None:
                dropped = _legacy_dropped(l_old, l_new, p.version)
                if dropped is not None:
                    yield F.StreamChanged(
                        path=path,
                        line=dropped[0],
                        side=Side.OLD,
                        vmsd=name,
                        subject=l_new.name,
                        function=l_new.name,
                        what=dropped[1],
                        version=p.version,
                    )


def _legacy_dropped(
    old: StreamFunction, new: StreamFunction, version: int
) -> tuple[int, str] | None:
    """A load that read an older stream version its own way and now reads it
    as the current one, with nothing refusing it: those streams are misread."""
    for v in range(version - 1, 0, -1):
        ow, nw = words(old.nodes, v), words(new.nodes, v)
        if "refuse" in ow or "refuse" in nw or ow == nw:
            continue
        kept = {b.cond for b in _version_blocks(new.nodes)}
        gone = next(
            (
                b
                for b in _version_blocks(old.nodes)
                if b.cond not in kept
                and b.version is not None
                and holds(b.version, v) != holds(b.version, version)
            ),
            None,
        )
        if gone is None:
            return None
        return gone.line, (
            f"the `if ({gone.cond})` branch that read streams of version {v} is gone, and "
            f"nothing refuses them: they are now read as version {version}"
        )
    return None


def _version_blocks(nodes: Sequence[object]) -> Iterable[Block]:
    for n in nodes:
        if isinstance(n, Block):
            if n.kind == "version":
                yield n
            yield from _version_blocks(n.body)
            yield from _version_blocks(n.orelse)


def _expanded(ws: Sequence[Word], model: FileModel | None) -> list[Word]:
    """``vmstate_save_state(f, &vmstate_foo, ...)`` as the bytes of vmstate_foo's
    fields, when the file's VMSD says them all (plain fields, no subsection);
    otherwise the element stays opaque."""
    out: list[Word] = []
    for w, op in ws:
        v = model.vmsd(w[5:]) if model is not None and w.startswith("vmsd:") else None
        sizes = _field_bytes(v) if v is not None else None
        if op is None or sizes is None:
            out.append((w, op))
            continue
        for name, n in sizes:
            out.append((str(n), Op(str(n), op.line, f"{name} of {w[5:]}")))
    return out


def _field_bytes(v: VmsdModel) -> list[tuple[str, int]] | None:
    if v.subsections or v.fields_ref:
        return None
    out: list[tuple[str, int]] = []
    for f in v.wire_fields:
        n = f.wire_bytes()
        if n is None or f.is_struct or f.version is not None or f.test is not None:
            return None
        if f.count is not None:
            return None  # an array: per-element puts would not line up
        out.append((f.name, n))
    return out


def _fn(sf: StreamFile, name: str | None) -> StreamFunction | None:
    return sf.functions.get(name) if name else None


def _same(a: Sequence[str], b: Sequence[str]) -> bool:
    return list(a) == list(b)


Word = tuple[str, Op | None]


def _first_difference(save: Sequence[Word], load: Sequence[Word]) -> tuple[int, str] | None:
    """Where a save and a load sequence part, in words; None when they agree."""
    sw, lw = [w for w, _ in save], [w for w, _ in load]
    if sw == lw:
        return None
    for k in range(max(len(sw), len(lw))):
        a = save[k] if k < len(save) else None
        b = load[k] if k < len(load) else None
        if a is not None and b is not None and a[0] == b[0]:
            continue
        if any(x is not None and x[1] is not None and not x[1].known for x in (a, b)):
            return None  # an opaque element: where they part is not known
        if a is not None and a[1] is not None and (b is None or b[1] is not None):
            what = f"{_call(a[1])} is written"
            what += (
                f" where {_call(b[1])} reads"
                if b is not None and b[1]
                else (" and nothing reads it")
            )
            return a[1].line, what
        if b is not None and b[1] is not None:
            line = b[1].line
            return line, f"{_call(b[1])} reads what no save writes"
        break
    return None


def _call(op: Op) -> str:
    return f"`{op.text}`"


def _width(word: str) -> str:
    return {"1": "1 byte", "tl": "a target long"}.get(
        word, f"{word} bytes" if word.isdigit() else word
    )


def _changed(
    old: Sequence[Word], new: Sequence[Word], lines: tuple[frozenset[int], frozenset[int]]
) -> tuple[int, str, Side] | None:
    """The first unconditional change of known elements between two versions of a
    stream function: (line, what, side). Changes that add or drop a whole
    conditional block, or swap an opaque call for something else, are not judged."""
    ow, nw = [w for w, _ in old], [w for w, _ in new]
    if ow == nw:
        return None
    if len(ow) == len(nw) and all(
        bool(_MARK.match(u)) == bool(_MARK.match(v)) for u, v in zip(ow, nw, strict=True)
    ):
        # the same shape: one element changed width in place
        for k, (u, v) in enumerate(zip(ow, nw, strict=True)):
            if u == v or _inside_block(ow, k):
                continue
            x, y = old[k][1], new[k][1]
            if x is None or y is None or not (x.known and y.known):
                return None
            return (
                y.line,
                f"{_call(x)} ({_width(x.word)}) became {_call(y)} ({_width(y.word)})",
                Side.NEW,
            )
        return None
    sm = difflib.SequenceMatcher(None, ow, nw, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        gone, came = old[i1:i2], new[j1:j2]
        if _inside_block(ow, i1) or _inside_block(nw, j1):
            continue  # changed under a condition, a loop or a version branch
        if any(_MARK.match(w) for w, _ in [*gone, *came]):
            continue  # a conditional block came or went
        if any(w == "refuse" for w, _ in [*gone, *came]):
            continue  # which versions are accepted, not what is sent
        if tag == "replace":
            if any(op is not None and not op.known for _, op in [*gone, *came]):
                continue  # an opaque call replaced: a refactor, most likely
            a, b = gone[0][1], came[0][1]
            assert a is not None and b is not None
            if len(gone) == len(came) == 1:
                return (
                    b.line,
                    f"{_call(a)} ({_width(a.word)}) became {_call(b)} ({_width(b.word)})",
                    Side.NEW,
                )
            return b.line, f"{_list(gone)} became {_list(came)}", Side.NEW
        if tag == "insert":
            came = _on_changed_lines(new, j1, j2, lines[1])
            b = came[0][1]
            assert b is not None
            where = "at the end" if j2 == len(nw) else "in the middle"
            return b.line, f"{_list(came)} added {where}", Side.NEW
        gone = _on_changed_lines(old, i1, i2, lines[0])
        a = gone[0][1]
        assert a is not None
        return a.line, f"{_list(gone)} removed", Side.OLD
    return None


def _on_changed_lines(ws: Sequence[Word], i: int, j: int, changed: frozenset[int]) -> list[Word]:
    """The run of words equal to ``ws[i:j]`` that the diff touched: in a run of
    equal widths the matcher may pick the neighbour of what was added."""
    n = j - i
    for d in sorted(range(-len(ws), len(ws)), key=abs):
        k = i + d
        if k < 0 or k + n > len(ws):
            continue
        window = list(ws[k : k + n])
        if [w for w, _ in window] != [w for w, _ in ws[i:j]]:
            continue
        if all(op is not None and op.line in changed for _, op in window):
            return window
    return list(ws[i:j])


def _inside_block(ws: Sequence[str], k: int) -> bool:
    """Whether element ``k`` is under a condition (a loop is not one)."""
    stack: list[str] = []
    for w in ws[:k]:
        if w.endswith("{"):
            stack.append(w)
        elif w == "}" and stack:
            stack.pop()
    return any(w != "loop{" for w in stack)


def _list(ws: Sequence[Word]) -> str:
    calls = [_call(op) for _, op in ws if op is not None]
    return ", ".join(calls[:3]) + (f" and {len(calls) - 3} more" if len(calls) > 3 else "")


# --- the core stream ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Gated:
    op: Op
    flag: str


def _core_facts(
    fc: FileChange, old: StreamFile, new: StreamFile, change: Change, head: Reader
) -> Iterable[F.Fact]:
    """An element added to a save function of the core stream under ``if (!flag)``
    where ``flag`` is new: sent unless the machine opts out."""
    assert fc.old_text is not None and fc.new_text is not None
    for name, fn in new.functions.items():
        before = old.functions.get(name)
        if before is None or name.split("_")[0:2] == ["qemu", "loadvm"] or "load" in name:
            continue
        for g in _opt_out_blocks(fn.nodes):
            if not fn.line <= g.op.line <= fn.end_line:
                continue  # in a helper it calls: judged there
            if re.search(rf"\b{re.escape(g.flag)}\b", fc.old_text):
                continue  # the flag existed: not a new opt-out
            setters = _setters(fc.new_text, g.flag)
            missing = list(_families_not_opting_out(g.flag, setters, change, head))
            if missing:
                yield F.CoreStreamElementAdded(
                    path=fc.path,
                    line=g.op.line,
                    vmsd=None,
                    subject=name,
                    function=name,
                    element=g.op.text,
                    flag=g.flag,
                    families=tuple(missing),
                )
                return


def _ops(nodes: Sequence[object]) -> Iterable[Op]:
    for n in nodes:
        if isinstance(n, Op):
            yield n
        elif isinstance(n, Block):
            yield from _ops(n.body)
            yield from _ops(n.orelse)


def _opt_out_blocks(nodes: Sequence[object]) -> Iterable[_Gated]:
    for n in nodes:
        if not isinstance(n, Block) or n.kind != "if" or n.orelse:
            continue
        m = re.fullmatch(r"!\s*([\w.>-]+)", n.cond.strip())
        first = next(iter(_ops(n.body)), None)
        if m and first is not None:
            flag = re.split(r"\.|->", m.group(1))[-1]
            yield _Gated(first, flag)


def _setters(text: str, flag: str) -> list[str]:
    """Functions whose body sets ``flag`` to true."""
    out: list[str] = []
    for m in re.finditer(
        rf"^\w[\w\s\*]*?\b(\w+)\s*\([^)]*\)\s*\{{(?:(?!^\}}).)*?(?:\.|->)\s*{re.escape(flag)}\s*=\s*true",
        text,
        re.M | re.S,
    ):
        out.append(m.group(1))
    return out


def _families_not_opting_out(
    flag: str, setters: Sequence[str], change: Change, head: Reader
) -> Iterable[str]:
    changed = {fc.path: fc.new_text for fc in change.files}
    names = [flag, *setters]
    for family, path in _FAMILY_FILES.items():
        text = changed.get(path) or head(path)
        if not text:
            continue
        versions = {
            (m.group(1) or m.group(3), m.group(2) or m.group(4))
            for m in _MACHINE_VERSION.finditer(text)
        }
        if len(versions) < 2:
            continue  # no machine version older than the newest
        if not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names):
            yield family
