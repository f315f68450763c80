"""SSML: building it (escaping, breaks within Alexa's limits, the pronunciation lexicon) and
reading it back (``read``: the one SSML reader, used by the timing model, the tests and the
simulator).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import NamedTuple

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})

MAX_BREAK_SECONDS = 10.0  # Alexa's limit for one <break>


def text(value: str, lexicon: Mapping[str, str] | None = None) -> str:
    """Escape ``value`` for SSML and wrap lexicon words in ``<sub alias>``."""
    if not lexicon:
        return escape(value)
    out, pos = [], 0
    for m in _lexicon_pattern(lexicon).finditer(value):
        out.append(escape(value[pos:m.start()]))
        alias = lexicon[m.group()].translate(_ATTRIBUTE_ESCAPES)
        out.append(f'<sub alias="{alias}">{escape(m.group())}</sub>')
        pos = m.end()
    out.append(escape(value[pos:]))
    return "".join(out)


def readings(value: str, lexicon: Mapping[str, str] | None) -> str:
    """``value`` as the TTS reads it: lexicon words replaced by their readings."""
    if not lexicon:
        return value
    return _lexicon_pattern(lexicon).sub(lambda m: lexicon[m.group()], value)


def escape(value: str) -> str:
    """``value`` safe as XML text."""
    return value.translate(_TEXT_ESCAPES)


def _lexicon_pattern(lexicon: Mapping[str, str]) -> re.Pattern[str]:
    return _pattern_for(tuple(sorted(lexicon, key=len, reverse=True)))


@lru_cache(maxsize=8)
def _pattern_for(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, one pass: a long word wins over a shorter one inside it (the name of knee
    # osteoarthritis over "knee joint"), and tags never nest.
    return re.compile("|".join(re.escape(w) for w in words))


def pause_seconds(seconds: float) -> float:
    """How long ``pause(seconds)`` is silent: the time rounded to milliseconds, at least 0."""
    return max(0, round(seconds * 1000)) / 1000


def pause(seconds: float) -> str:
    """Silence of ``seconds`` in breaks of at most 10 s; nothing for a non-positive time."""
    ms = round(seconds * 1000)
    parts = []
    while ms > 0:
        chunk = min(ms, int(MAX_BREAK_SECONDS * 1000))
        parts.append(f'<break time="{chunk}ms"/>')
        ms -= chunk
    return "".join(parts)


def speak(body: str, rate: int = 100) -> str:
    """Wrap ``body`` in ``<speak>`` (the one wrapping: the response carries it as it is), with a
    prosody rate when it is not the default."""
    if rate != 100:
        body = f'<prosody rate="{rate}%">{body}</prosody>'
    return f"<speak>{body.strip()}</speak>"


# -- reading ------------------------------------------------------------------------------------

_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_STRENGTH_SECONDS = {"none": 0, "x-weak": 0.1, "weak": 0.25, "medium": 0.4, "strong": 0.75,
                     "x-strong": 1.0}
_TOKEN = re.compile(r"<(/?)([\w:-]+)([^>]*?)(/?)>|([^<]+)", re.S)
_ATTRIBUTE = re.compile(r"([\w:-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


class Piece(NamedTuple):
    """One run of SSML as heard: text (``written`` as shown, ``spoken`` as the TTS says it, at
    ``rate`` percent), a pause of ``pause`` seconds, or an audio clip (``audio``)."""

    written: str = ""
    spoken: str = ""
    pause: float = 0.0
    rate: float = 100
    audio: bool = False


def break_seconds(attrs: Mapping[str, str]) -> float:
    """A ``<break>``'s length: its ``time`` ("300ms", "2s") or its ``strength``."""
    if "time" in attrs:
        m = _BREAK_TIME.match(attrs["time"])
        if not m:
            raise ValueError(f"bad break time {attrs['time']!r}")
        value = float(m.group(1))
        return value / 1000 if m.group(2) == "ms" else value
    return _STRENGTH_SECONDS.get(attrs.get("strength", "medium"), 0.4)


def read(document: str, *, strict: bool = True) -> Iterator[Piece]:
    """``document`` (SSML, with or without ``<speak>``) as pieces in order.

    A ``<sub>`` is shown as written and spoken as its alias; nested ``<prosody rate="N%">``
    multiply; ``<desc>`` (an audio clip's description) is neither; ``<p>`` and ``<s>`` part
    words. A bad break time raises ``ValueError``, or (``strict=False``) is a pause of 0 s.
    """
    rates = [100.0]
    alias: str | None = None  # inside <sub alias>: spoken once, for the whole element
    hidden = 0  # inside <desc>
    for m in _TOKEN.finditer(document or ""):
        closing, name, attrs, empty, text = m.groups()
        if text is not None:
            if not hidden:
                written = html.unescape(text)
                yield Piece(written, written if alias is None else "", rate=rates[-1])
            continue
        name = name.lower()
        attributes = {k: html.unescape(v[1:-1]) for k, v in _ATTRIBUTE.findall(attrs)}
        if name == "break":
            try:
                seconds = break_seconds(attributes)
            except ValueError:
                if strict:
                    raise
                seconds = 0.0
            yield Piece(pause=seconds)
        elif name == "sub" and not empty:
            alias = None if closing else attributes.get("alias", "")
            if alias:
                yield Piece("", alias, rate=rates[-1])
        elif name == "prosody" and not empty:
            if closing:
                rates = rates[:-1] or [100.0]
            else:
                rates.append(rates[-1] * _percent(attributes.get("rate")) / 100)
        elif name == "audio" and not closing:
            yield Piece(audio=True)
        elif name == "desc" and not empty:
            hidden = max(0, hidden + (-1 if closing else 1))
        elif name in ("p", "s"):
            yield Piece(" ", " ", rate=rates[-1])


def _percent(value: str | None) -> float:
    m = re.fullmatch(r"\s*(\d{1,3}(?:\.\d+)?)%\s*", value or "")
    return float(m.group(1)) if m else 100.0
