"""How long SSML takes to say: breaks plus speech at the locale's stated speaking rate.

The rate lives in ``content/<locale>/locale.yaml`` (words per second for en-US, characters per
second for ja-JP). The renderer uses this to fit cues inside holds; the tests use it to prove each
narrated set matches the article's timing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from skill.content.loader import SpeechRate

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_STRENGTH_SECONDS = {"none": 0, "x-weak": 0.1, "weak": 0.25, "medium": 0.4, "strong": 0.75,
                     "x-strong": 1.0}


def speech_seconds(text: str, rate: SpeechRate) -> float:
    """Seconds to say ``text`` at ``rate`` (punctuation and spaces are free)."""
    if rate.unit == "words":
        units = len(_WORD.findall(text))
    else:
        units = sum(1 for ch in text if _spoken_char(ch))
    return units / rate.per_second


def _spoken_char(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch)[0] not in "PZS"


def break_seconds(attrs: dict[str, str]) -> float:
    if "time" in attrs:
        m = _BREAK_TIME.match(attrs["time"])
        if not m:
            raise ValueError(f"bad break time {attrs['time']!r}")
        value = float(m.group(1))
        return value / 1000 if m.group(2) == "ms" else value
    return _STRENGTH_SECONDS.get(attrs.get("strength", "medium"), 0.4)


def ssml_seconds(ssml: str, rate: SpeechRate) -> float:
    """Narrated length of an SSML document (or fragment) in seconds."""
    import xml.etree.ElementTree as ET  # only the screen and the tests measure SSML

    root = ET.fromstring(ssml if ssml.lstrip().startswith("<speak") else f"<speak>{ssml}</speak>")
    return _element_seconds(root, rate, 1.0)


def _element_seconds(el: ET.Element, rate: SpeechRate, speed: float) -> float:
    """Seconds for ``el`` and its children (not its tail, which belongs to the parent)."""
    tag = el.tag.split("}")[-1]
    if tag == "break":
        return break_seconds(el.attrib)
    if tag == "sub":  # the alias is what is spoken
        return speech_seconds(el.get("alias", ""), rate) / speed
    if tag == "prosody" and el.get("rate", "").endswith("%"):
        speed = speed * float(el.get("rate")[:-1]) / 100
    total = speech_seconds(el.text or "", rate) / speed
    for child in el:
        total += _element_seconds(child, rate, speed) + _tail(child, rate, speed)
    return total


def _tail(el: ET.Element, rate: SpeechRate, speed: float) -> float:
    return speech_seconds(el.tail or "", rate) / speed
