"""Phrase patterns, the editable form of the sample utterances, and their expansion.

A pattern is text with three kinds of parts:

- ``(a|b|)``  alternatives; an empty alternative makes the group optional. Groups nest.
- ``<name>``  a named fragment of the same file (``fragments:``), itself a pattern.
- ``{slot}``  a slot reference, kept as it is for the interaction model.

``expand("my (knee|leg) (hurts|aches)")`` gives my knee hurts, my knee aches, my leg hurts, my leg
aches. The expansion is
written by hand, pattern by pattern (no blind product across an intent): a pattern that expands
to more than ``MAX_PER_PATTERN`` samples is refused as too broad, so an editor splits it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MAX_PER_PATTERN = 600
_SPACES = re.compile(r"\s+")


class PatternError(ValueError):
    """A pattern cannot be read or expands too far."""


def expand(pattern: str, fragments: Mapping[str, str] | None = None, spaced: bool = False
           ) -> list[str]:
    """Every sample ``pattern`` stands for, in order, without duplicates."""
    parser = _Parser(pattern, fragments or {}, ())
    out = parser.sequence()
    if parser.pos != len(pattern):
        raise PatternError(f"{pattern!r}: unmatched {pattern[parser.pos]!r} at {parser.pos}")
    samples = [_tidy(s, spaced) for s in out]
    samples = list(dict.fromkeys(s for s in samples if s))
    if len(samples) > MAX_PER_PATTERN:
        raise PatternError(f"{pattern!r} expands to {len(samples)} samples "
                           f"(at most {MAX_PER_PATTERN}): split it")
    return samples


def expand_all(patterns: Iterable[str], fragments: Mapping[str, str] | None = None,
               spaced: bool = False) -> list[str]:
    """The samples of several patterns, in order, without duplicates."""
    found: dict[str, None] = {}
    for pattern in patterns:
        for sample in expand(pattern, fragments, spaced):
            found.setdefault(sample)
    return list(found)


def _tidy(sample: str, spaced: bool) -> str:
    if spaced:
        return _SPACES.sub(" ", sample).strip()
    return _SPACES.sub("", sample)


class _Parser:
    """Recursive descent over one pattern; each method returns the expansions of its part."""

    def __init__(self, text: str, fragments: Mapping[str, str], using: tuple[str, ...]) -> None:
        self.text, self.fragments, self.using, self.pos = text, fragments, using, 0

    def sequence(self) -> list[str]:
        results = [""]
        while self.pos < len(self.text) and self.text[self.pos] not in "|)":
            part = self.item()
            results = [a + b for a in results for b in part]
            if len(results) > MAX_PER_PATTERN * 4:
                raise PatternError(f"{self.text!r} expands too far: split it")
        return results

    def item(self) -> list[str]:
        ch = self.text[self.pos]
        if ch == "(":
            self.pos += 1
            options = self.sequence()
            while self.pos < len(self.text) and self.text[self.pos] == "|":
                self.pos += 1
                options += self.sequence()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise PatternError(f"{self.text!r}: '(' without ')'")
            self.pos += 1
            return list(dict.fromkeys(options))
        if ch == "<":
            end = self.text.find(">", self.pos)
            if end < 0:
                raise PatternError(f"{self.text!r}: '<' without '>'")
            name = self.text[self.pos + 1:end]
            self.pos = end + 1
            if name not in self.fragments:
                raise PatternError(f"{self.text!r}: unknown fragment <{name}>")
            if name in self.using:
                raise PatternError(f"fragment <{name}> refers to itself")
            inner = _Parser(self.fragments[name], self.fragments, (*self.using, name))
            out = inner.sequence()
            if inner.pos != len(inner.text):
                raise PatternError(f"fragment <{name}>: unmatched {inner.text[inner.pos]!r}")
            return out
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in "()|<":
            self.pos += 1
        if self.pos == start:  # a stray '>' or similar
            raise PatternError(f"{self.text!r}: unexpected {ch!r}")
        return [self.text[start:self.pos]]
