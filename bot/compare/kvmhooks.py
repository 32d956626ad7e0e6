"""A migration hook that calls into KVM without asking whether KVM is in use.

A VMSD's ``pre_load``/``post_load``/``pre_save``/``post_save`` (and a
``SaveVMHandlers`` load or save function) runs whatever the accelerator. A
QEMU built with KVM support that runs a guest under TCG still links the real
KVM code: ``kvm_state`` is NULL and no vCPU or VM file descriptor exists. A hook
of a device or CPU that TCG also uses, reaching a KVM function that issues an
ioctl with no ``kvm_enabled()`` (or similar) check on the way, crashes the
destination or fails every load under TCG (d39c90f5f3ae: spapr's post_load
configuring the radix MMU through KVM unconditionally; fixed by 0c86b2df78fe).

What is judged, in each touched C file that is not built for KVM only:

* the hooks the file's VMSDs and ``SaveVMHandlers`` name, and the functions
  of the same file they call, a few levels deep;
* every call from those to a KVM-only function: one of the ioctl primitives
  (``kvm_vm_ioctl``...), or a ``kvm*`` function defined in a file built for
  KVM only whose body reaches a primitive with no check of the accelerator or
  of a KVM capability before it;
* the call is unguarded: no condition naming KVM (``kvm_enabled()``,
  ``kvm_irqchip_in_kernel()``, ``s->kvm_...``, a descriptor) encloses the call
  or any call on the way from the hook, no earlier ``if (...) return`` on such a
  condition, no ``assert(kvm_enabled())``.

Only pairs (hook, KVM function) the change introduces are facts: the same
unguarded call in the base file is old news.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.compare import facts as F
from bot.compare.context import FileModels
from bot.errors import InputError
from bot.scanner.expr import matching
from bot.scanner.lexer import Kind, Token, tokenize
from bot.scanner.model import FileModel
from bot.scanner.treesearch import TreeSearch

PRIMITIVES = frozenset(
    {
        "kvm_ioctl",
        "kvm_vm_ioctl",
        "kvm_vcpu_ioctl",
        "kvm_device_ioctl",
        "kvm_set_one_reg",
        "kvm_get_one_reg",
        "kvm_device_access",
    }
)
"""Calls that need a KVM VM, vCPU or device descriptor (``kvm_state`` NULL under TCG)."""

_KVM_CALLEE = re.compile(r"^kvm[a-z0-9]*_\w+$")
"""``kvm_*``, ``kvmppc_*``, ``kvm_arm_*``, ``kvm_s390_*``..."""
_PREDICATE = re.compile(
    r"(?:_enabled|_in_kernel|_allowed|_supported|_available|_possible|_present)$"
    r"|^kvm\w*_(?:has|check)_|^kvm\w*_get_(?:max|supported)_|_has_cap_"
)
"""Questions about the accelerator, answered without a descriptor."""
_GUARD_IDENT = re.compile(r"kvm|^tcg_enabled$|^(?:\w+_)?fd$|_in_kernel$|^cap_", re.IGNORECASE)
"""An identifier whose presence in a condition means the code asks about KVM."""
_KVM_ONLY_PATH = re.compile(r"(?:^|/)kvm/|(?:^|/)[^/]*kvm[^/]*\.c$")
"""Files built for KVM only: ``target/ppc/kvm.c``, ``hw/intc/spapr_xive_kvm.c``,
``hw/i386/kvm/clock.c``, ``accel/kvm/kvm-all.c``."""
_HOOK_MEMBERS = (
    "save_state",
    "load_state",
    "save_setup",
    "load_setup",
    "save_live_iterate",
    "save_live_complete_precopy",
    "save_live_complete_postcopy",
    "save_cleanup",
    "load_cleanup",
)
"""``SaveVMHandlers`` members that run while saving or loading."""
_HANDLERS = re.compile(r"\bSaveVMHandlers\s+\w+\s*=\s*\{(?P<body>[^;]*?)\}\s*;", re.S)
_DEPTH = 3
"""Levels of same-file calls followed below the hook."""


def is_kvm_only(path: str) -> bool:
    return _KVM_ONLY_PATH.search(path) is not None


@dataclass(frozen=True, slots=True)
class _Call:
    hook: str
    callee: str
    line: int
    via: tuple[str, ...]
    """Functions on the way from the hook to the call, the hook first."""


def kvm_hook_facts(
    fm: FileModels, texts: tuple[str | None, str | None], head: TreeSearch
) -> Iterable[F.Fact]:
    old_text, new_text = texts
    if fm.new is None or new_text is None or not fm.path.endswith(".c") or is_kvm_only(fm.path):
        return
    new = _unguarded(fm.new, new_text)
    if not new:
        return
    old = _unguarded(fm.old, old_text) if fm.old is not None and old_text is not None else []
    before = {(c.hook, c.callee) for c in old}
    unsafe: dict[str, bool] = {}
    seen: set[tuple[str, str]] = set()
    for call in new:
        key = (call.hook, call.callee)
        if key in before or key in seen:
            continue
        if call.callee not in unsafe:
            unsafe[call.callee] = call.callee in PRIMITIVES or _reaches_kvm(call.callee, head)
        if not unsafe[call.callee]:
            continue
        seen.add(key)
        yield F.KvmCallInMigrationHook(
            path=fm.path,
            line=call.line,
            vmsd=_vmsd_of(fm.new, call.hook),
            subject=call.callee,
            hook=call.hook,
            callee=call.callee,
            via=call.via,
        )


def _vmsd_of(model: FileModel, hook: str) -> str | None:
    for v in model.vmsds:
        if any(fn == hook for _h, fn in v.hooks):
            return v.name or v.ident
    return None


def hooks_of(model: FileModel, text: str) -> list[str]:
    """Functions of the file that VMSD hooks or ``SaveVMHandlers`` members name."""
    names = {f.name for f in model.functions}
    out: list[str] = []
    for v in model.vmsds:
        out += [fn for _h, fn in v.hooks if fn in names]
    for m in _HANDLERS.finditer(text):
        for member in _HOOK_MEMBERS:
            h = re.search(rf"\.{member}\s*=\s*&?\s*(\w+)", m.group("body"))
            if h and h.group(1) in names:
                out.append(h.group(1))
    return list(dict.fromkeys(out))


def _unguarded(model: FileModel, text: str) -> list[_Call]:
    hooks = hooks_of(model, text)
    if not hooks:
        return []
    funcs = {f.name: f for f in model.functions}
    # Cheap test first: does anything reachable name a KVM function at all?
    reach: set[str] = set()
    todo = [(h, 0) for h in hooks]
    while todo:
        name, depth = todo.pop()
        if name in reach:
            continue
        reach.add(name)
        if depth < _DEPTH:
            todo += [(c, depth + 1) for c in funcs[name].identifiers if c in funcs and c != name]
    if not any(_KVM_CALLEE.match(i) for n in reach for i in funcs[n].identifiers):
        return []
    try:
        tokens = tokenize(text, model.path)
    except InputError:
        return []
    bodies = {n: _body(tokens, funcs[n].line, funcs[n].end_line) for n in reach}
    out: list[_Call] = []
    for hook in hooks:
        _walk(hook, hook, (hook,), bodies, funcs.keys(), out, 0)
    return out


def _walk(
    hook: str,
    name: str,
    via: tuple[str, ...],
    bodies: dict[str, list[Token]],
    local: Iterable[str],
    out: list[_Call],
    depth: int,
) -> None:
    body = bodies.get(name)
    if body is None:
        return
    local_names = set(local)
    for k, callee in _unguarded_calls(body):
        if (
            _KVM_CALLEE.match(callee)
            and not _PREDICATE.search(callee)
            and callee not in local_names
        ):
            out.append(_Call(hook, callee, body[k].line, via))
        elif callee in local_names and callee not in via and depth < _DEPTH:
            _walk(hook, callee, (*via, callee), bodies, local_names, out, depth + 1)


def _body(tokens: Sequence[Token], first: int, last: int) -> list[Token]:
    """The tokens of a function from its opening brace to its closing one."""
    toks = [t for t in tokens if first <= t.line <= last and t.kind != Kind.COMMENT]
    for k, t in enumerate(toks):
        if t.text == "{":
            end = matching(toks, k)
            return toks[k : end + 1]
    return []


def _unguarded_calls(body: list[Token]) -> Iterable[tuple[int, str]]:
    """(token index, callee) of the calls in a body that no KVM condition guards."""
    early = len(body)
    for k, t in enumerate(body):
        if t.text == "assert" and _guarding(_parens(body, k + 1)):
            early = min(early, k)
        if t.text == "if":
            cond = _parens(body, k + 1)
            stmt = _statement_after(body, k + 1)
            if _guarding(cond) and any(x.text in ("return", "goto") for x in stmt):
                early = min(early, k)
    for k, t in enumerate(body):
        if k >= early:
            return
        if t.kind != Kind.IDENT or k + 1 >= len(body) or body[k + 1].text != "(":
            continue
        if k > 0 and body[k - 1].text in ("->", ".", "if", "while", "for", "switch", "sizeof"):
            continue
        if t.text in ("if", "while", "for", "switch", "return", "sizeof"):
            continue
        if not _guarded_at(body, k):
            yield k, t.text


def _parens(body: list[Token], k: int) -> list[Token]:
    if k >= len(body) or body[k].text != "(":
        return []
    return body[k : matching(body, k) + 1]


def _statement_after(body: list[Token], k: int) -> list[Token]:
    """The statement an ``if (cond)`` at ``k`` (its open paren) governs."""
    if k >= len(body) or body[k].text != "(":
        return []
    j = matching(body, k) + 1
    if j < len(body) and body[j].text == "{":
        return body[j : matching(body, j) + 1]
    end = j
    while end < len(body) and body[end].text != ";":
        end += 1
    return body[j : end + 1]


def _guarding(cond: Sequence[Token]) -> bool:
    """A condition that asks about KVM (a call of a KVM function in it does not ask)."""
    for i, t in enumerate(cond):
        if t.kind != Kind.IDENT or not _GUARD_IDENT.search(t.text):
            continue
        called = i + 1 < len(cond) and cond[i + 1].text == "("
        if called and _KVM_CALLEE.match(t.text) and not _PREDICATE.search(t.text):
            continue
        return True
    return False


def _guarded_at(body: list[Token], k: int) -> bool:
    """A KVM condition in the call's own statement or in a condition enclosing it."""
    # Back to the start of the statement: `kvm_enabled() && f()`, `if (kvm_enabled()) f();`.
    j = k - 1
    depth = 0
    while j >= 0:
        text = body[j].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            depth -= 1
        elif depth <= 0 and text in (";", "{", "}"):
            break
        j -= 1
    stmt = body[j + 1 : k]
    if _guarding([t for t in stmt if t.text != body[k].text]):
        return True
    # Enclosing blocks: the condition before each `{` that holds the call.
    depth = 0
    for i in range(k - 1, -1, -1):
        text = body[i].text
        if text == "}":
            depth += 1
        elif text == "{":
            if depth > 0:
                depth -= 1
                continue
            if _block_guarded(body, i):
                return True
    return False


def _block_guarded(body: list[Token], brace: int) -> bool:
    """The block opening at ``brace`` runs only when a KVM condition holds."""
    if brace == 0:
        return False
    prev = body[brace - 1]
    if prev.text == ")":
        start = _open_of(body, brace - 1)
        head = body[start - 1].text if start > 0 else ""
        if head in ("if", "while", "for", "switch"):
            cond = body[start:brace]
            return _guarding(cond) and not _negated(cond)
        return False
    if prev.text == "else":
        # `if (!kvm_enabled()) { ... } else { here }`
        close = brace - 2
        if close >= 0 and body[close].text == "}":
            i = _open_of(body, close)
            if i > 0 and body[i - 1].text == ")":
                start = _open_of(body, i - 1)
                cond = body[start:i]
                return _guarding(cond) and _negated(cond)
    return False


_OPENING = {")": "(", "}": "{", "]": "["}


def _open_of(body: list[Token], close: int) -> int:
    """Index of the bracket the one at ``close`` closes, searching back (0 on runaway)."""
    closing = body[close].text
    opening = _OPENING[closing]
    depth = 0
    for i in range(close, -1, -1):
        if body[i].text == closing:
            depth += 1
        elif body[i].text == opening:
            depth -= 1
            if depth == 0:
                return i
    return 0


def _negated(cond: Sequence[Token]) -> bool:
    """``!kvm_enabled()`` or ``tcg_enabled()``: the block runs when KVM is off."""
    for i, t in enumerate(cond):
        if t.kind == Kind.IDENT and _GUARD_IDENT.search(t.text):
            if t.text == "tcg_enabled":
                return not (i > 0 and cond[i - 1].text == "!")
            return i > 0 and cond[i - 1].text == "!"
    return False


# --- the callee, in the head tree -------------------------------------------------------


def _definition(name: str, text: str) -> str | None:
    """The body of ``name`` as defined (not declared) in ``text``."""
    m = re.search(
        rf"(?m)^(?:[A-Za-z_][\w \t\*]*[\s\*])?{re.escape(name)}\s*\([^;{{}}]*\)\s*\{{", text
    )
    if m is None:
        return None
    start = m.end() - 1
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


_GUARD_IF = re.compile(
    r"\b(?:if|assert)\s*\((?P<cond>[^;{]*?(?:\bcap_\w+|kvm_enabled|kvm_state|kvm\w*_has_\w+"
    r"|check_extension|_in_kernel|\w*fd\b|\b\w+_has_\w+|\bhas_\w+)[^;{]*)\)"
)
_PRIMITIVE_CALL = re.compile(r"\b(?:" + "|".join(sorted(PRIMITIVES)) + r")\s*\(")


def _reaches_kvm(name: str, head: TreeSearch, depth: int = 0) -> bool:
    """``name`` is defined in a KVM-only file and reaches an ioctl before any check.

    Unknown (no tree, no definition found, a definition outside KVM-only files):
    False, never guessed.
    """
    if not head.searchable:
        return False
    for path in head.files_with(name):
        if not path.endswith(".c") or not is_kvm_only(path):
            continue
        body = _definition(name, head.text(path) or "")
        if body is None:
            continue
        return _body_reaches(body, path, head, depth)
    return False


def _body_reaches(body: str, path: str, head: TreeSearch, depth: int) -> bool:
    calls = [(m.start(), True) for m in _PRIMITIVE_CALL.finditer(body)]
    if depth < 1:
        text = head.text(path) or ""
        for m in re.finditer(r"\b(kvm[a-z0-9]*_\w+)\s*\(", body):
            callee = m.group(1)
            if callee in PRIMITIVES or _PREDICATE.search(callee):
                continue
            inner = _definition(callee, text)
            if inner is not None and _body_reaches(inner, path, head, depth + 1):
                calls.append((m.start(), True))
    if not calls:
        return False
    first = min(pos for pos, _ in calls)
    return _GUARD_IF.search(body[:first]) is None
