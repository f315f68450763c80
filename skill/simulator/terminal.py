"""The terminal's printer: replies, notes and what was heard, wrapped to the screen's columns."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, TextIO

from skill.simulator.device import Exchange, closest_samples
from skill.simulator.listening import CLOSED, LISTENING, LISTENING_AGAIN, REPROMPTING, Happening
from skill.simulator.nlu import Understanding
from skill.simulator.speech import readable

WIDTH = 100  # display columns (a Japanese character takes two)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` display columns, broken at spaces or after 。、."""
    pieces = re.findall(r"[^\s。、！？]*[。、！？]+\s*|\S+\s*|\s+", text)
    lines, line = [], ""
    for piece in pieces:
        if line and _columns(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        while _columns(piece.rstrip()) > width:  # one unbroken run: cut it
            cut = _fit(piece, width)
            lines.append(piece[:cut])
            piece = piece[cut:]
        line += piece if line or not piece.isspace() else ""
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> int:
    used = 0
    for i, ch in enumerate(text):
        used += _columns(ch)
        if used > width:
            return max(i, 1)
    return len(text)


class Printer:
    def __init__(self, out: TextIO, show_json: bool = False, device: bool = False) -> None:
        self.out, self.show_json, self.device = out, show_json, device

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def block(self, label: str, text: str, indent: int | None = None) -> None:
        """``label`` and ``text``, wrapped; following lines line up under the text."""
        pad = " " * (len(label) + 1 if indent is None else indent)
        first = True
        for paragraph in text.splitlines() or [""]:
            hang = " " * len(re.match(r"(?:[•\-*] )?", paragraph).group())  # under a bullet
            lines = wrap(paragraph, WIDTH - len(pad) - len(hang)) if paragraph else [""]
            for n, line in enumerate(lines):
                line = f"{hang}{line}" if n else line
                self.line(f"{label} {line}" if first else f"{pad}{line}".rstrip())
                first = False

    def exchange(self, ex: Exchange) -> None:
        for note in ex.notes:
            self.line(f"  ({note})")
        if ex.heard is not None:
            self.line(f"  -> {describe(ex.heard)}")
            closest = closest_samples(ex.heard)
            if closest:
                self.block("  closest samples:", "\n".join(f"• {s}" for s in closest))
        if ex.reply is None:
            reason = ex.request["request"].get("reason", "")
            self.line(f"  -> SessionEndedRequest ({reason}): the skill may not speak")
            self.line("  [session ended]")
            return
        reply = ex.reply
        self.block("Alexa:", readable(reply.speech) or "(nothing)")
        if reply.reprompt:
            self.block("  reprompt:", readable(reply.reprompt))
        if reply.card:
            self.block("  card:", f"{reply.card['title']}\n{reply.card['text']}", indent=4)
        if not reply.session_open:
            self.line("  [session ended]")
        else:  # in device mode, when it listens comes next
            self.line("  [session open]" if self.device else "  [session open: Alexa is listening]")
        if self.show_json:
            self.line(json.dumps(reply.raw, ensure_ascii=False, indent=2))


    def happening(self, h: Happening) -> None:
        """What the Echo did by itself, or did not hear (device mode)."""
        if h.kind == "exchange" and h.exchange is not None:
            self.exchange(h.exchange)
        elif h.kind == "said":
            self.line(f"  (Alexa is speaking: about {_seconds(h.seconds)})")
        elif h.kind == "not heard":
            self.line(f"  (not heard: {NOT_HEARD.get(h.reason, h.reason)})")
        elif h.kind == "interrupted":
            self.line(f"  (the wake word interrupts Alexa {_seconds(h.seconds)} into its speech)")
        elif h.kind in (LISTENING, LISTENING_AGAIN):
            self.line(f"  (listening… {_seconds(h.seconds)})")
        elif h.kind == REPROMPTING:
            self.line("  (reprompt)")
            self.block("Alexa:", readable(h.reprompt) or "(nothing)")
        elif h.kind == CLOSED:
            self.line("  (session ended: no answer)")
            if h.exchange is not None:
                self.exchange(h.exchange)


NOT_HEARD = {
    "speaking": "Alexa was speaking",
    "idle": 'no session is open; begin with the wake word, "Alexa, …"',
    "unnamed": "no session is open, and a request that does not name the skill goes to Alexa "
               'itself: "Alexa, open …" or "Alexa, ask … to …"',
}


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f}".removesuffix(".0") + " s"


def describe(heard: Understanding) -> str:
    """The resolved request in one line: ``GoToStepIntent step=3``."""
    parts = ["LaunchRequest" if heard.intent is None else heard.intent]
    for name, slot in heard.slots.items():
        if "value" not in slot:
            continue
        resolved = _resolution(slot)
        parts.append(f"{name}={slot['value']!r}" + (f" ({resolved})" if resolved else ""))
    if heard.invocation == "one_shot":
        parts.append("[one-shot]")
    if heard.sample:
        parts.append(f'· sample "{heard.sample}"')
    return " ".join(parts)


def _resolution(slot: Mapping[str, Any]) -> str:
    for authority in slot.get("resolutions", {}).get("resolutionsPerAuthority", []):
        code = authority["status"]["code"]
        ids = [v["value"]["id"] for v in authority.get("values", [])]
        return f"{code} {', '.join(ids)}".strip()
    return ""

