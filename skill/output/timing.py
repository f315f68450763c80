"""How long SSML takes to say: breaks plus speech at the locale's stated speaking rate.

The rate lives in ``content/<locale>/locale.yaml`` (words per second for en-US, characters per
second for ja-JP). The renderer uses this to fit cues inside holds; the tests use it to prove each
narrated set matches the article's timing.
"""

from __future__ import annotations

import re
import unicodedata

from skill.content.loader import SpeechRate
from skill.output import ssml
from skill.output.ssml import break_seconds

__all__ = ["break_seconds", "speech_seconds", "ssml_seconds"]  # break_seconds: from ssml

_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


def speech_seconds(text: str, rate: SpeechRate) -> float:
    """Seconds to say ``text`` at ``rate`` (punctuation and spaces are free)."""
    if rate.unit == "words":
        units = len(_WORD.findall(text))
    else:
        units = sum(1 for ch in text if _spoken_char(ch))
    return units / rate.per_second


def _spoken_char(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch)[0] not in "PZS"


def ssml_seconds(document: str, rate: SpeechRate) -> float:
    """Narrated length of an SSML document (or fragment) in seconds: its breaks, plus each
    spoken run at ``rate`` stretched by its prosody rate (read by ``ssml.read``)."""
    return sum(piece.pause + speech_seconds(piece.spoken, rate) * 100 / piece.rate
               for piece in ssml.read(document))
