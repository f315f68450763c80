"""What the local NLU knows besides the interaction model, as Alexa does: how text is compared
(its *key*), wake words and how a skill is named, and spoken numbers and times
(``AMAZON.NUMBER``, ``AMAZON.TIME``).

Unspaced languages (Japanese): NFKC width folding, case folding, katakana as hiragana, and no
spaces or punctuation (the ideographic full stop and comma included). Spaced languages (English):
NFKC, case folding, apostrophes dropped ("let's" = "lets"), punctuation as word breaks, single
spaces. The words themselves are data, in ``nlu_builtins.yaml`` beside this module, read once
when first needed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NUMBER = "AMAZON.NUMBER"
TIME = "AMAZON.TIME"
MAX_TEXT_CHARS = 500
BUILTINS = Path(__file__).with_name("nlu_builtins.yaml")


# -- text keys ------------------------------------------------------------------------------------


def is_unspaced(locale: str) -> bool:
    """Whether the language is written without spaces between words."""
    return locale[:2].lower() in _builtins()["unspaced"]


def key(text: str, locale: str) -> str:
    """``text`` as the matcher compares it (see the module docstring)."""
    return Heard(text, locale).key


class Heard:
    """An utterance's key, and where each key character came from (to quote slot values)."""

    def __init__(self, text: str, locale: str) -> None:
        self.surface = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])  # folded per char
        chars: list[str] = []
        self.origin: list[int] = []
        unspaced = is_unspaced(locale)
        for i, ch in enumerate(self.surface):
            for c in ch.casefold():
                if unspaced:
                    c = _hiragana(c)
                    keep = unicodedata.category(c)[0] in "LNM"
                elif c in _APOSTROPHES:
                    continue
                else:
                    keep = _WORD_CHAR.match(c) is not None
                    if not keep and chars and chars[-1] != " ":
                        chars.append(" ")
                        self.origin.append(i)
                if keep:
                    chars.append(c)
                    self.origin.append(i)
        while chars and chars[-1] == " ":
            chars.pop()
            self.origin.pop()
        self.key = "".join(chars)

    def quote(self, start: int, end: int) -> str:
        """The text as typed (width-folded) behind ``key[start:end]``."""
        return self.surface[self.origin[start]:self.origin[end - 1] + 1]


_APOSTROPHES = frozenset("'\u2019`")
_WORD_CHAR = re.compile(r"[^\W_]")


def _hiragana(text: str) -> str:
    return text.translate(_KATAKANA_TO_HIRAGANA)


_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


# -- built-in words (nlu_builtins.yaml) -----------------------------------------------------------


class BuiltinsError(ValueError):
    """``nlu_builtins.yaml`` lacks an entry this module reads, or has one of the wrong kind."""


@functools.cache
def _builtins() -> Mapping[str, Any]:
    """``nlu_builtins.yaml``, parsed once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    with BUILTINS.open(encoding="utf-8") as f:
        try:
            data = yaml.load(f, Loader=loader)
        except yaml.YAMLError as e:
            raise BuiltinsError(f"{BUILTINS.name}: {e}") from None
    languages = data.get("languages") if isinstance(data, dict) else None
    fallback = data.get("fallback") if isinstance(data, dict) else None
    if not (isinstance(languages, dict) and isinstance(data.get("unspaced"), list)
            and isinstance(fallback, dict)
            and all(fallback.get(kind) in languages for kind in ("spaced", "unspaced"))):
        raise BuiltinsError(f"{BUILTINS.name}: needs 'languages', 'unspaced' and a 'fallback' "
                            "section for both 'spaced' and 'unspaced' languages")
    return data


def language_of(locale: str) -> str:
    """The section of the built-ins that ``locale`` reads with."""
    builtins = _builtins()
    language = locale[:2].lower()
    if language in builtins["languages"]:
        return language
    return builtins["fallback"]["unspaced" if is_unspaced(locale) else "spaced"]


class _Section:
    """One language's section of the built-ins; words come out as keys (see ``key``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.unspaced = is_unspaced(language)
        self.data = _builtins()["languages"][language]

    def _entry(self, path: str) -> Any:
        node = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path} missing")
            node = node[part]
        return node

    def _key(self, path: str, word: Any) -> str:
        folded = key(word, self.language) if isinstance(word, str) else ""
        if not folded:
            raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path}: "
                                f"{word!r} is not a word (quote it)")
        return folded

    def text(self, path: str) -> str:
        """A string as written (a phrase shown to people)."""
        value = self._entry(path)
        if not isinstance(value, str):
            raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path}: not a string")
        return value

    def texts(self, path: str) -> tuple[str, ...]:
        """Strings as written (each locale folds them its own way)."""
        value = self._entry(path)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path}: "
                                "not a list of strings")
        return tuple(value)

    def word(self, path: str) -> str:
        return self._key(path, self._entry(path))

    def words(self, path: str) -> tuple[str, ...]:
        value = self._entry(path)
        if not isinstance(value, list) or not value:
            raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path}: not a list")
        return tuple(self._key(path, word) for word in value)

    def table(self, path: str, kind: type) -> dict[str, Any]:
        """A mapping from words to values of ``kind``."""
        value = self._entry(path)
        if not isinstance(value, Mapping) or not all(isinstance(v, kind) for v in value.values()):
            raise BuiltinsError(f"{BUILTINS.name}: languages.{self.language}.{path}: "
                                f"not a mapping to {kind.__name__}")
        return {self._key(path, word): v for word, v in value.items()}


def alternation(words: Iterable[str]) -> str:
    return "|".join(map(re.escape, words))


def _without_lead(text: str, leads: Iterable[str], unspaced: bool) -> str:
    """``text`` without the first of ``leads`` it starts with (as a whole word)."""
    for lead in leads:
        prefix = lead if unspaced else lead + " "
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


@functools.cache
def wake_phrase(locale: str) -> str:
    """The wake word as the simulators write it before a request (English where unknown)."""
    languages = _builtins()["languages"]
    language = locale.split("-")[0]
    return str(languages.get(language, languages["en"])["wake_phrase"])


@functools.cache
def wake_words() -> tuple[str, ...]:
    """Every language's wake words, as written (heard in every locale, as on a device)."""
    return tuple(word for language in _builtins()["languages"]
                 for word in _Section(language).texts("wake_words"))


@dataclass(frozen=True)
class _Naming:
    """How people name a skill (see ``Nlu._invocation``)."""

    launch_phrase: str  # as shown to people; "{name}" is the invocation name
    one_shot_phrase: str
    launch_verbs: tuple[str, ...]
    # spaced languages: "<verb> [article] <name> [noun]", "<verb> <name> [connector] <utterance>"
    articles: tuple[str, ...] = ()
    skill_nouns: tuple[str, ...] = ()
    one_shot_verbs: tuple[str, ...] = ()
    connectors: tuple[str, ...] = ()
    one_shot_after: tuple[str, ...] = ()  # "<utterance> <word> [article] <name>"
    # unspaced languages: "<name>[particle]<verb>[polite ending]", "<name>[particle]<utterance>"
    polite_endings: tuple[str, ...] = ()
    particles: tuple[str, ...] = ()


@functools.cache
def naming(language: str) -> _Naming:
    s = _Section(language)
    common = {"launch_phrase": s.text("naming.launch_phrase"),
              "one_shot_phrase": s.text("naming.one_shot_phrase"),
              "launch_verbs": s.words("naming.launch_verbs")}
    if s.unspaced:
        return _Naming(**common, polite_endings=s.words("naming.polite_endings"),
                       particles=s.words("naming.particles"))
    return _Naming(**common, articles=s.words("naming.articles"),
                   skill_nouns=s.words("naming.skill_nouns"),
                   one_shot_verbs=s.words("naming.one_shot_verbs"),
                   connectors=s.words("naming.connectors"),
                   one_shot_after=s.words("naming.one_shot_after"))


# -- numbers (AMAZON.NUMBER) ----------------------------------------------------------------------

MAX_NUMBER = 9999


@dataclass(frozen=True)
class _Numbers:
    suffixes: tuple[str, ...]  # after digits ("3rd")
    alone: Mapping[str, int]  # a number said as one word
    # spaced languages: words added up, with multipliers
    counting: Mapping[str, int] = field(default_factory=dict)
    hundred: str = ""
    thousand: str = ""
    conjunction: str = ""
    article: str = ""  # "<article> <hundred>" is one hundred
    # unspaced languages: numerals
    digits: Mapping[str, int] = field(default_factory=dict)
    units: Mapping[str, int] = field(default_factory=dict)


@functools.cache
def _numbers(language: str) -> _Numbers:
    s = _Section(language)
    common = {"suffixes": s.words("numbers.suffixes"), "alone": s.table("numbers.alone", int)}
    if s.unspaced:
        return _Numbers(**common, digits=s.table("numbers.digits", int),
                        units=s.table("numbers.units", int))
    return _Numbers(**common, counting=s.table("numbers.counting", int),
                    hundred=s.word("numbers.hundred"), thousand=s.word("numbers.thousand"),
                    conjunction=s.word("numbers.conjunction"),
                    article=s.word("numbers.article"))


@functools.cache
def _digits() -> re.Pattern[str]:
    """Digits, with any language's suffix (as Alexa hears "3rd" whatever the locale)."""
    suffixes = [s for language in _builtins()["languages"] for s in _numbers(language).suffixes]
    return re.compile(rf"(\d{{1,4}})(?:\s?(?:{alternation(suffixes)}))?")


def parse_number(spoken: str, locale: str) -> int | None:
    """The number a slot value says (digits or words), or None when it is not one."""
    text = key(spoken, locale)
    m = _digits().fullmatch(text)
    if m:
        return int(m.group(1))
    numbers = _numbers(language_of(locale))
    if text in numbers.alone:
        return numbers.alone[text]
    if is_unspaced(locale):
        return _numerals(text, numbers)
    return _counted(text.split(), numbers)


def _numerals(text: str, numbers: _Numbers) -> int | None:
    digits, units = numbers.digits, numbers.units
    if not text or any(ch not in digits and ch not in units for ch in text):
        return None
    if all(ch in digits for ch in text):  # digits only: positional ("two zero" is 20)
        return int("".join(str(digits[ch]) for ch in text)) if len(text) <= 4 else None
    total, digit = 0, None
    for ch in text:
        if ch in digits:
            if digit is not None:
                return None
            digit = digits[ch]
        else:
            total += (1 if digit is None else digit) * units[ch]
            digit = None
    return total + (digit or 0)


def _counted(words: list[str], numbers: _Numbers) -> int | None:
    total, current, seen = 0, 0, False
    if words[:2] == [numbers.article, numbers.hundred]:  # "a hundred"
        words, current, seen = words[1:], 1, True
    for word in words:
        if word in numbers.counting:
            current += numbers.counting[word]
        elif word == numbers.hundred and seen:
            current *= 100
        elif word == numbers.thousand and seen:
            total, current = total + current * 1000, 0
        elif word == numbers.conjunction and seen:
            continue
        else:
            return None
        seen = True
    value = total + current
    return value if seen and value <= MAX_NUMBER else None


# -- times (AMAZON.TIME: "HH:MM", or MO / AF / EV / NI for a part of the day) ----------------------


@dataclass(frozen=True)
class _Times:
    parts_of_day: Mapping[str, str]
    named: Mapping[str, str]
    am: tuple[str, ...]  # says which half of the day a clock time is in
    pm: tuple[str, ...]
    # spaced languages: "[lead] <hour> [before minutes] [<minute>] [am | pm | neither]"
    before_time: tuple[str, ...] = ()
    before_part: tuple[str, ...] = ()
    neither: tuple[str, ...] = ()
    attached: re.Pattern[str] | None = None  # "9pm"
    before_minutes: tuple[str, ...] = ()
    # unspaced languages: the whole clock time, groups mer(idiem), h, m and half
    clock: re.Pattern[str] | None = None


@functools.cache
def _times(language: str) -> _Times:
    s = _Section(language)
    am, pm = s.words("times.am"), s.words("times.pm")
    common = {"parts_of_day": s.table("times.parts_of_day", str),
              "named": s.table("times.named", str), "am": am, "pm": pm}
    if s.unspaced:
        number = "[0-9" + "".join(map(re.escape, s.word("times.clock_numerals"))) + "]{1,3}"
        hour, minute = re.escape(s.word("times.hour_mark")), re.escape(s.word("times.minute_mark"))
        half = re.escape(s.word("times.half_hour"))
        clock = re.compile(rf"(?P<mer>{alternation(am + pm)})?(?P<h>{number}){hour}"
                           rf"(?:(?P<half>{half})|(?P<m>{number}){minute})?")
        return _Times(**common, clock=clock)
    attached = re.compile(rf"(\d)({alternation(s.words('times.attached'))})\b")
    return _Times(**common, before_time=s.words("times.before_time"),
                  before_part=s.words("times.before_part"), neither=s.words("times.neither"),
                  attached=attached, before_minutes=s.words("times.before_minutes"))


def parse_time(spoken: str, locale: str) -> str | None:
    """An AMAZON.TIME value for what was said ("07:00", "19:30", "MO"), or None."""
    unspaced = is_unspaced(locale)
    times = _times(language_of(locale))
    text = _without_lead(key(spoken, locale), times.before_time, unspaced)
    part = _without_lead(text, times.before_part, unspaced)
    if part in times.parts_of_day:
        return times.parts_of_day[part]
    if text in times.named:
        return times.named[text]
    if unspaced:
        hour, minute, meridiem = _unspaced_clock(text, locale, times)
    else:
        hour, minute, meridiem = _spaced_clock(text, locale, times)
    if hour is None or minute is None or hour > 24 or minute > 59:
        return None
    if meridiem in times.pm and hour < 12:
        hour += 12
    elif meridiem in times.am and hour == 12:
        hour = 0
    return f"{hour % 24:02d}:{minute:02d}"


_Clock = tuple[int | None, int | None, str | None]  # hour, minute, the word for half of the day


def _unspaced_clock(text: str, locale: str, times: _Times) -> _Clock:
    assert times.clock is not None
    m = times.clock.fullmatch(text)
    if not m:
        return None, None, None
    hour, minute = parse_number(m.group("h"), locale), 30 if m.group("half") else 0
    if m.group("m"):
        minute = parse_number(m.group("m"), locale)
    return hour, minute, m.group("mer")


def _spaced_clock(text: str, locale: str, times: _Times) -> _Clock:
    assert times.attached is not None
    text = times.attached.sub(r"\1 \2", text)
    meridiem = next((m for m in (*times.am, *times.pm, *times.neither)
                     if text.endswith(" " + m)), None)
    if meridiem is not None:
        text = text.removesuffix(" " + meridiem)
    hour, minute = _spaced_hour_minute(text.split(), locale, times)
    return hour, minute, meridiem


def _spaced_hour_minute(words: list[str], locale: str, times: _Times
                        ) -> tuple[int | None, int | None]:
    """Hour and minute of "nine thirty", "21 00", "seven oh five" (the longest hour first)."""
    for split in range(len(words), 0, -1):
        hour = parse_number(" ".join(words[:split]), locale)
        rest = words[split:]
        if rest[:1] and rest[0] in times.before_minutes:
            rest = rest[1:]
        minute = parse_number(" ".join(rest), locale) if rest else 0
        if hour is not None and hour <= 24 and minute is not None and minute <= 59:
            return hour, minute
    return None, None
