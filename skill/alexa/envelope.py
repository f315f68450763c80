"""Reading an Alexa envelope as untrusted JSON: a missing or mistyped part reads as ``{}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EMPTY: Mapping[str, Any] = {}


def part(doc: Any, *keys: str) -> Mapping[str, Any]:
    """The object at ``doc[keys[0]][keys[1]]...``, or an empty mapping if any step is not one."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, Mapping) else None
    return doc if isinstance(doc, Mapping) else EMPTY


def text(doc: Any, *keys: str) -> str | None:
    """The string at the end of ``keys``, or None."""
    value = part(doc, *keys[:-1]).get(keys[-1])
    return value if isinstance(value, str) else None
