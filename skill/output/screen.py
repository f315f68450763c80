"""Echo Show screens: the APL document in ``content/apl/`` and the data for each step.

Sent only to devices that declare ``Alexa.Presentation.APL``; others get nothing extra. The
document is read once per process and marked ``WireJson``: the response writer passes it through
as it is instead of walking it every turn.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from skill.alexa import envelope
from skill.content.loader import CONTENT_DIR, ContentError

APL_INTERFACE = "Alexa.Presentation.APL"
DOCUMENT_PATH = CONTENT_DIR / "apl" / "step.json"
TOKEN = "kneeRoutineStep"


class WireJson(dict):
    """A JSON object already in wire form: the response writer passes it on as it is (no copy),
    so it must not change afterwards (the document is shared; the screen data is new each turn)."""

    __slots__ = ()


@functools.cache
def step_document() -> WireJson:
    """The APL document for a step, checked for the shape Alexa needs."""
    try:
        doc = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ContentError(DOCUMENT_PATH, "(file)", f"not readable JSON: {e}") from None
    if doc.get("type") != "APL" or not isinstance(doc.get("version"), str):
        raise ContentError(DOCUMENT_PATH, "type", "must be an APL document with a version")
    template = doc.get("mainTemplate")
    if not isinstance(template, dict) or template.get("parameters") != ["payload"]:
        raise ContentError(DOCUMENT_PATH, "mainTemplate.parameters", 'must be ["payload"]')
    if not isinstance(template.get("items"), list) or not template["items"]:
        raise ContentError(DOCUMENT_PATH, "mainTemplate.items", "must list the screen's items")
    return WireJson(doc)


def supports_apl(raw: Any) -> bool:
    """Whether the request's device has a screen that renders APL."""
    interfaces = envelope.part(raw, "context", "System", "device", "supportedInterfaces")
    return APL_INTERFACE in interfaces


def render_directive(data: dict[str, Any]) -> dict[str, Any]:
    """The RenderDocument directive (as JSON) showing ``data`` (from ``Renderer.screen``, a new
    dict each turn, so it too is written out as it is); its document is the shared
    ``step_document()``."""
    return {"type": f"{APL_INTERFACE}.RenderDocument", "token": TOKEN,
            "document": step_document(), "datasources": WireJson(knee=data)}
