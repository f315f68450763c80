"""SSML building blocks: escaping, breaks within Alexa's limits, and the pronunciation lexicon."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

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
    """Wrap ``body`` in ``<speak>``, with a prosody rate when it is not the default."""
    if rate != 100:
        body = f'<prosody rate="{rate}%">{body}</prosody>'
    return f"<speak>{body}</speak>"
