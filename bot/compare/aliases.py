"""Types that carry another type's properties as aliases.

A virtio proxy (``virtio-iommu-pci``) creates its virtio device in its
instance_init with ``virtio_instance_init_common(obj, &dev->vdev, ...,
TYPE_VIRTIO_IOMMU)``, which aliases every property of the device onto the
proxy (``qdev_alias_all_properties``). A compat entry naming the proxy
therefore sets the device's property: it reaches the device.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_INIT_COMMON = re.compile(
    r"\bvirtio_instance_init_common\s*\((?:[^()]|\([^()]*\))*?,\s*(\w+|\"[^\"]+\")\s*\)"
)


def aliased_types(text: str, spelling: str) -> list[str]:
    """The types (as spelt: ``TYPE_FOO`` or a quoted name) whose properties the type
    registered in ``text`` under ``spelling`` aliases in its instance_init."""
    clean = _COMMENT.sub(" ", text)
    out: list[str] = []
    for init in _instance_inits(clean, spelling):
        body = _body(clean, init)
        if body is not None:
            out.extend(m.group(1) for m in _INIT_COMMON.finditer(body))
    return out


def _instance_inits(text: str, spelling: str) -> Iterable[str]:
    """``.instance_init`` of each initializer block that names the type ``spelling``."""
    named = re.compile(
        r"\.(?:name|generic_name|base_name|transitional_name|non_transitional_name)\s*=\s*"
        + re.escape(spelling)
        + r"\s*[,}]"
    )
    for m in named.finditer(text):
        start = text.rfind("{", 0, m.start())
        end = text.find("}", m.end() - 1)
        block = text[start : end + 1] if start >= 0 and end >= 0 else ""
        got = re.search(r"\.instance_init\s*=\s*(\w+)", block)
        if got is not None:
            yield got.group(1)


def _body(text: str, function: str) -> str | None:
    m = re.search(rf"\b{re.escape(function)}\s*\(\s*Object\s*\*\s*\w+\s*\)\s*\{{", text)
    if m is None:
        return None
    depth = 0
    for k in range(m.end() - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[m.end() : k]
    return None
