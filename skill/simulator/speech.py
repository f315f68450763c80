"""SSML as a person hears it: speech and silences in order, shown readably, and how long it lasts.

Shared by the terminal (``skill.simulator.chat``) and the browser simulator.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from skill.content.loader import SpeechRate
from skill.output.ssml import read as read_ssml
from skill.output.timing import speech_seconds, ssml_seconds

MIN_SHOWN_PAUSE = 1.0  # seconds; shorter breaks are pacing, shown as a space


@dataclass(frozen=True)
class Segment:
    """A stretch of speech (``text``, at ``rate`` percent) or of silence (``pause`` seconds)."""

    text: str = ""
    pause: float = 0.0
    rate: int = 100

    def to_json(self) -> dict[str, Any]:
        if self.pause:
            return {"pause": round(self.pause, 3)}
        return {"text": self.text, "rate": self.rate}


def speech_segments(ssml: str) -> list[Segment]:
    """SSML as speech and silences, in order: written text, adjacent breaks summed."""
    segments: list[Segment] = []
    words: list[str] = []
    rate = 100

    def flush() -> None:
        text = re.sub(r"\s+", " ", "".join(words)).strip()
        words.clear()
        if text:
            segments.append(Segment(text=text, rate=rate))

    for piece in read_ssml(ssml, strict=False):
        if piece.audio or piece.written or piece.spoken:
            if round(piece.rate) != rate:
                flush()
                rate = round(piece.rate)
            words.append(" [audio] " if piece.audio else piece.written)
        else:  # a break
            flush()
            segments.append(Segment(pause=piece.pause))
    flush()
    return _merged(segments)


def _merged(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if seg.pause <= 0 and not seg.text:
            continue
        if out and seg.pause and out[-1].pause:
            out[-1] = Segment(pause=out[-1].pause + seg.pause)
        elif out and seg.text and out[-1].text and seg.rate == out[-1].rate:
            out[-1] = Segment(text=f"{out[-1].text} {seg.text}", rate=seg.rate)
        else:
            out.append(seg)
    return out


def format_pause(seconds: float) -> str:
    value = f"{seconds:.1f}".removesuffix(".0")
    return f"[{value} s]"


def readable(segments: Iterable[Segment]) -> str:
    """Speech as lines of text; a pause worth noticing ends its line as ``[10 s]``."""
    lines, current = [], ""
    for seg in segments:
        if seg.text:
            current = f"{current} {seg.text}".strip()
        elif seg.pause >= MIN_SHOWN_PAUSE:
            lines.append(f"{current} {format_pause(seg.pause)}".strip())
            current = ""
    if current:
        lines.append(current)
    return "\n".join(lines)


def output_ssml(speech: Any) -> str:
    """The SSML (or plain text, escaped) of an ``outputSpeech`` object."""
    if not isinstance(speech, Mapping):
        return ""
    if isinstance(speech.get("ssml"), str):
        return speech["ssml"]
    text = speech.get("text")
    return html.escape(text) if isinstance(text, str) else ""



def spoken_seconds(ssml: str, rate: SpeechRate) -> float:
    """How long Alexa takes to say ``ssml`` (speech at ``rate`` plus its breaks).

    The project's own estimate (``skill.output.timing``); SSML it cannot parse is measured from
    its segments instead, so a malformed answer from a served skill still gets a length.
    """
    if not ssml.strip():
        return 0.0
    try:
        return ssml_seconds(ssml, rate)
    except (ET.ParseError, ValueError):
        return sum(seg.pause or speech_seconds(seg.text, rate) * 100 / (seg.rate or 100)
                   for seg in speech_segments(ssml))
