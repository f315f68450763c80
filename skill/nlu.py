"""A local stand-in for Alexa's language understanding, from ``interaction_models/<locale>.json``.

``for_locale(locale).understand(text)`` turns typed text into what Alexa would send: a launch, or
an intent with its slots (custom slots with entity resolution, ``AMAZON.NUMBER`` as digits,
``AMAZON.TIME`` as "HH:MM").
Nothing else is consulted: a phrasing the model does not list falls back, as on a device.

Matching works on a *key* of the text. Japanese: NFKC width folding, case folding, katakana as
hiragana, and no spaces or punctuation (。、？！ included). English: NFKC, case folding, apostrophes
dropped ("let's" = "lets"), punctuation as word breaks, single spaces.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skill.models import language_model, load_model

FALLBACK = "AMAZON.FallbackIntent"
NUMBER = "AMAZON.NUMBER"
TIME = "AMAZON.TIME"
AUTHORITY = "amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}"
LOCAL_SKILL_ID = "amzn1.ask.skill.local-simulator"
MAX_TEXT_CHARS = 500
_SLOT_REF = re.compile(r"\{(\w+)\}")

# A custom slot value that matches no listed value is still filled (ER_SUCCESS_NO_MATCH, as
# Alexa does) when the rest of the sample is at least this long; a bare "{slot}" never is.
_MIN_LITERAL_FOR_NO_MATCH = {"spaced": 2, "unspaced": 3}  # words / characters

# How people name a skill, per language (keys, see ``key``). Launch words open the skill; any
# other words next to the invocation name are an utterance for it ("ask X to start").
_WAKE_WORDS = ("alexa", "echo", "computer", "アレクサ")
_EN_LAUNCH_VERBS = ("open", "launch", "load", "run", "play", "use", "talk to", "speak to",
                    "ask", "tell")
_EN_ONE_SHOT_BEFORE = ("ask", "tell")  # ask X to <utterance>
_EN_CONNECTORS = ("to", "for", "about", "if", "whether", "that", "and")
_EN_ONE_SHOT_AFTER = ("with", "using", "from", "on", "in")  # <utterance> with X
_JA_LAUNCH_VERBS = ("開いて", "ひらいて", "開く", "開けて", "起動して", "起動", "呼んで",
                    "つないで", "使って", "お願い")
_JA_POLITE = ("ください", "下さい", "くれ")
_JA_PARTICLES = ("を", "で", "に", "の", "は")


# -- text keys ------------------------------------------------------------------------------------


def is_unspaced(locale: str) -> bool:
    """Whether the language is written without spaces between words."""
    return locale[:2].lower() in ("ja", "zh")


def key(text: str, locale: str) -> str:
    """``text`` as the matcher compares it (see the module docstring)."""
    return _Heard(text, locale).key


class _Heard:
    """An utterance's key, and where each key character came from (to quote slot values)."""

    def __init__(self, text: str, locale: str) -> None:
        self.surface = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
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


# -- numbers (AMAZON.NUMBER) ----------------------------------------------------------------------

_EN_UNITS = {w: n for n, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"))}
_EN_TENS = {w: 10 * n for n, w in enumerate(
    ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), start=2)}
_EN_ORDINALS = {w: n for n, w in enumerate((
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth"), start=1)}
_JA_DIGITS = {**{ch: n for n, ch in enumerate("〇一二三四五六七八九")}, "零": 0}
_JA_UNITS = {"十": 10, "百": 100, "千": 1000}
_JA_READINGS = {  # hiragana, as ``key`` folds them
    "ぜろ": 0, "れい": 0, "いち": 1, "に": 2, "さん": 3, "よん": 4, "し": 4, "ご": 5, "ろく": 6,
    "なな": 7, "しち": 7, "はち": 8, "きゅう": 9, "く": 9, "じゅう": 10,
    "ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5,
}
MAX_NUMBER = 9999


def parse_number(spoken: str, locale: str) -> int | None:
    """The number a slot value says (digits or words), or None when it is not one."""
    text = key(spoken, locale)
    m = re.fullmatch(r"(\d{1,4})(?:\s?(?:st|nd|rd|th|番|つ))?", text)
    if m:
        return int(m.group(1))
    if is_unspaced(locale):
        return _JA_READINGS.get(text, _kanji_number(text))
    return _english_number(text.split())


def _kanji_number(text: str) -> int | None:
    if not text or any(ch not in _JA_DIGITS and ch not in _JA_UNITS for ch in text):
        return None
    if all(ch in _JA_DIGITS for ch in text):  # positional: 二〇 = 20
        return int("".join(str(_JA_DIGITS[ch]) for ch in text)) if len(text) <= 4 else None
    total, digit = 0, None
    for ch in text:
        if ch in _JA_DIGITS:
            if digit is not None:
                return None
            digit = _JA_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _JA_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _english_number(words: list[str]) -> int | None:
    if len(words) == 1 and words[0] in _EN_ORDINALS:
        return _EN_ORDINALS[words[0]]
    if words and words[0] in ("a", "one") and words[1:2] == ["hundred"]:
        words = ["one", *words[1:]]
    total, current, seen = 0, 0, False
    for word in words:
        if word in _EN_UNITS:
            current += _EN_UNITS[word]
        elif word in _EN_TENS:
            current += _EN_TENS[word]
        elif word == "hundred" and seen:
            current *= 100
        elif word == "thousand" and seen:
            total, current = total + current * 1000, 0
        elif word == "and" and seen:
            continue
        else:
            return None
        seen = True
    value = total + current
    return value if seen and value <= MAX_NUMBER else None


# -- times (AMAZON.TIME: "HH:MM", or MO / AF / EV / NI for a part of the day) ----------------------

_EN_PARTS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "tonight": "NI"}
_EN_MERIDIEM = {"": "", "am": "am", "a m": "am", "pm": "pm", "p m": "pm", "in the morning": "am",
                "in the afternoon": "pm", "in the evening": "pm", "at night": "pm",
                "tonight": "pm", "oclock": ""}
_JA_PARTS = {"朝": "MO", "午前": "MO", "昼": "AF", "午後": "AF", "夕方": "EV", "晩": "EV",
             "夜": "NI"}
_JA_AFTERNOON = ("午後", "夜", "夕方", "晩", "昼")
_JA_NUMBER = "[0-9〇一二三四五六七八九十]{1,3}"
_JA_TIME = re.compile(rf"(?P<mer>午前|午後|朝|昼|夕方|晩|夜)?(?P<h>{_JA_NUMBER})時"
                      rf"(?:(?P<half>半)|(?P<m>{_JA_NUMBER})分)?")


def parse_time(spoken: str, locale: str) -> str | None:
    """An AMAZON.TIME value for what was said ("07:00", "19:30", "MO"), or None."""
    text = key(spoken, locale)
    if is_unspaced(locale):
        if text in _JA_PARTS:
            return _JA_PARTS[text]
        if text == "正午":
            return "12:00"
        m = _JA_TIME.fullmatch(text)
        if not m:
            return None
        hour, minute = parse_number(m.group("h"), locale), 30 if m.group("half") else 0
        if m.group("m"):
            minute = parse_number(m.group("m"), locale)
        afternoon = m.group("mer") in _JA_AFTERNOON
        morning = m.group("mer") in ("午前", "朝")
    else:
        text = text.removeprefix("at ")
        if text in _EN_PARTS or text.removeprefix("in the ") in _EN_PARTS:
            return _EN_PARTS[text.removeprefix("in the ")]
        if text in ("noon", "midday"):
            return "12:00"
        if text == "midnight":
            return "00:00"
        text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
        meridiem = next((m for m in _EN_MERIDIEM if text.endswith(" " + m)), "")
        hour, minute = _english_clock(text.removesuffix(" " + meridiem).split())
        afternoon, morning = _EN_MERIDIEM[meridiem] == "pm", _EN_MERIDIEM[meridiem] == "am"
    if hour is None or minute is None or hour > 24 or minute > 59:
        return None
    if afternoon and hour < 12:
        hour += 12
    elif morning and hour == 12:
        hour = 0
    return f"{hour % 24:02d}:{minute:02d}"


def _english_clock(words: list[str]) -> tuple[int | None, int | None]:
    """Hour and minute of "nine thirty", "21 00", "seven oh five" (the longest hour first)."""
    for split in range(len(words), 0, -1):
        hour = parse_number(" ".join(words[:split]), "en-US")
        rest = words[split:]
        if rest[:1] == ["oh"]:
            rest = rest[1:]
        minute = parse_number(" ".join(rest), "en-US") if rest else 0
        if hour is not None and hour <= 24 and minute is not None and minute <= 59:
            return hour, minute
    return None, None


# -- the model, compiled --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotValue:
    id: str
    name: str  # the value as the model lists it (resolutions report this)


@dataclass(frozen=True)
class Sample:
    intent: str
    text: str
    pattern: re.Pattern[str]
    slot_types: Mapping[str, str]  # group name -> slot type
    literal: int  # words (spaced) or characters (unspaced) outside the slots


@dataclass(frozen=True)
class Understanding:
    """What Alexa would make of one utterance."""

    text: str
    intent: str | None  # None for a plain launch ("open knee routine")
    slots: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    invocation: str | None = None  # "launch" or "one_shot" when the utterance named the skill
    sample: str | None = None  # the model sample that matched

    @property
    def opens_session(self) -> bool:
        return self.invocation is not None

    def request(self) -> dict[str, Any]:
        """The ``request`` body Alexa sends (without ids, timestamp and locale)."""
        if self.intent is None:
            return {"type": "LaunchRequest"}
        intent = {"name": self.intent, "confirmationStatus": "NONE",
                  "slots": {name: dict(slot) for name, slot in self.slots.items()}}
        return {"type": "IntentRequest", "intent": intent}

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "request": self.request()["type"], "intent": self.intent,
                "slots": {n: dict(s) for n, s in self.slots.items()},
                "invocation": self.invocation, "sample": self.sample}


class Nlu:
    """Understanding for one locale's interaction model."""

    def __init__(self, model: Mapping[str, Any], locale: str,
                 skill_id: str = LOCAL_SKILL_ID) -> None:
        self.locale = locale
        self.skill_id = skill_id
        self.unspaced = is_unspaced(locale)
        lm = language_model(dict(model))
        self.invocation_name: str = lm["invocationName"]
        self.invocation_key = key(self.invocation_name, locale)
        self.intents: dict[str, dict[str, str]] = {}  # intent -> slot name -> type
        self.sample_texts: dict[str, list[str]] = {}  # intent -> its samples, as written
        self.samples: list[Sample] = []
        self.values: dict[str, dict[str, list[SlotValue]]] = {}  # type -> key -> values
        for slot_type in lm.get("types", []):
            table: dict[str, list[SlotValue]] = {}
            for item in slot_type.get("values", []):
                name = item["name"]["value"]
                value = SlotValue(item.get("id") or name, name)
                for phrase in (name, *item["name"].get("synonyms", [])):
                    found = table.setdefault(key(phrase, locale), [])
                    if value not in found:
                        found.append(value)
            self.values[slot_type["name"]] = table
        for intent in lm["intents"]:
            slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
            self.intents[intent["name"]] = slots
            self.sample_texts[intent["name"]] = list(intent.get("samples", []))
            for text in intent.get("samples", []):
                sample = self._compile(intent["name"], text, slots)
                if sample is not None:
                    self.samples.append(sample)

    @property
    def launch_phrase(self) -> str:
        """How a person opens the skill: "open knee routine", "ひざトレーニングを開いて"."""
        if self.unspaced:
            return self.invocation_name.replace(" ", "") + "を" + _JA_LAUNCH_VERBS[0]
        return f"open {self.invocation_name}"

    @property
    def one_shot_phrase(self) -> str:
        """How a person asks the skill something: "ask knee routine …", "ひざトレーニングで…"."""
        if self.unspaced:
            return self.invocation_name.replace(" ", "") + "で…"
        return f"ask {self.invocation_name} …"

    def _compile(self, intent: str, text: str, slots: Mapping[str, str]) -> Sample | None:
        pieces, types, literal = [], {}, 0
        for i, part in enumerate(_SLOT_REF.split(text)):
            if i % 2:  # a slot reference
                if part not in slots:
                    return None  # `python -m skill.models check` reports these
                group = f"s{len(types)}"
                types[group] = part
                pieces.append(f"(?P<{group}>.+?)")
            else:
                words = key(part, self.locale)
                if words:
                    pieces.append(re.escape(words))
                    literal += len(words) if self.unspaced else len(words.split())
        if not pieces:
            return None
        pattern = re.compile(("" if self.unspaced else " ").join(pieces))
        return Sample(intent, text, pattern, types, literal)

    # -- understanding --------------------------------------------------------------------------

    def understand(self, text: str, in_session: bool = False) -> Understanding | None:
        """What Alexa would send for ``text``; None when nothing is said.

        Inside a session, words the model knows are the skill's ("start knee routine" is then
        StartRoutineIntent); otherwise, and for launch phrases, naming the skill opens it anew.
        """
        heard = _Heard(text, self.locale)
        said = self._after_wake_word(heard.key)
        if said == len(heard.key):
            return None
        whole = [(said, len(heard.key))]
        if in_session:
            understood = self._match(text, heard, whole, None)
            if understood.intent != FALLBACK:
                return understood
        named = self._invocation(heard.key, said)
        if named is None:
            return self._match(text, heard, whole, None)
        kind, readings = named
        if readings is None:
            return Understanding(text, None, invocation=kind)
        return self._match(text, heard, readings, kind)

    def _after_wake_word(self, said: str) -> int:
        """Where the utterance starts after "Alexa," (the length of ``said`` if nothing follows)."""
        for wake in _WAKE_WORDS:
            wake_key = key(wake, self.locale)
            if said == wake_key:
                return len(said)
            prefix = wake_key if self.unspaced else wake_key + " "
            if said.startswith(prefix):
                return len(prefix)
        return 0

    def _match(self, text: str, heard: _Heard, readings: list[tuple[int, int]],
               invocation: str | None) -> Understanding:
        """The best sample match over ``readings`` (spans of ``heard.key`` to try)."""
        best: tuple[tuple[int, int, int], Understanding] | None = None
        for start, end in readings:
            said = heard.key[start:end]
            for index, sample in enumerate(self.samples):
                m = sample.pattern.fullmatch(said)
                if m is None:
                    continue
                filled = self._slots(sample, m, heard, start)
                if filled is None:
                    continue
                slots, resolved = filled
                if not resolved and sample.literal < self._min_literal():
                    continue
                score = (int(resolved), sample.literal, -index)
                if best is None or score > best[0]:
                    best = (score, Understanding(text, sample.intent, slots, invocation,
                                                 sample.text))
        if best is not None:
            return best[1]
        return Understanding(text, FALLBACK, {}, invocation)

    def _min_literal(self) -> int:
        return _MIN_LITERAL_FOR_NO_MATCH["unspaced" if self.unspaced else "spaced"]

    def _slots(self, sample: Sample, m: re.Match[str], heard: _Heard, offset: int
               ) -> tuple[dict[str, dict[str, Any]], bool] | None:
        """Alexa's slot objects for a match, and whether every custom value resolved."""
        declared = self.intents[sample.intent]
        slots: dict[str, dict[str, Any]] = {
            name: {"name": name, "confirmationStatus": "NONE"} for name in declared}
        resolved = True
        for group, name in sample.slot_types.items():
            spoken = m.group(group)
            quoted = heard.quote(offset + m.start(group), offset + m.end(group))
            if not self.unspaced:
                quoted = quoted.casefold()  # as Alexa's speech recognition writes it
            slot_type = declared[name]
            if slot_type in (NUMBER, TIME):
                parse = parse_number if slot_type == NUMBER else parse_time
                value = parse(spoken, self.locale)
                if value is None:
                    return None
                slots[name]["value"] = str(value)
            elif slot_type in self.values:
                matches = self.values[slot_type].get(spoken, [])
                slots[name]["value"] = quoted
                slots[name]["resolutions"] = self._resolutions(slot_type, matches)
                resolved = resolved and bool(matches)
            else:  # another built-in type: the words as said
                slots[name]["value"] = quoted
        return slots, resolved

    def _resolutions(self, slot_type: str, matches: list[SlotValue]) -> dict[str, Any]:
        authority: dict[str, Any] = {
            "authority": AUTHORITY.format(skill_id=self.skill_id, slot_type=slot_type),
            "status": {"code": "ER_SUCCESS_MATCH" if matches else "ER_SUCCESS_NO_MATCH"},
        }
        if matches:
            authority["values"] = [{"value": {"name": v.name, "id": v.id}} for v in matches]
        return {"resolutionsPerAuthority": [authority]}

    # -- naming the skill -----------------------------------------------------------------------

    def _invocation(self, full: str, start: int) -> tuple[str, list[tuple[int, int]] | None] | None:
        """("launch", None) to open the skill, ("one_shot", readings) to ask it something, or
        None when ``full[start:]`` does not name the skill. Readings are spans of ``full``."""
        said = full[start:]
        if said == self.invocation_key:
            return "launch", None
        by_language = self._invocation_unspaced if self.unspaced else self._invocation_spaced
        named = by_language(said)
        if named is None or named[1] is None:
            return named
        return named[0], [(start + a, start + b) for a, b in named[1]]

    def _invocation_spaced(self, said: str) -> tuple[str, list[tuple[int, int]] | None] | None:
        inv = re.escape(self.invocation_key)
        verbs = "|".join(map(re.escape, _EN_LAUNCH_VERBS))
        if re.fullmatch(rf"(?:{verbs}) (?:the )?{inv}(?: skill)?", said):
            return "launch", None
        before = "|".join(_EN_ONE_SHOT_BEFORE)
        m = re.fullmatch(rf"(?:{before}|open|launch|start|begin) (?:the )?{inv} (.+)", said)
        if m:  # ask knee routine (to) <utterance>
            readings = [m.span(1)]
            first, _, tail = m.group(1).partition(" ")
            if first in _EN_CONNECTORS and tail:
                readings.append((m.end(1) - len(tail), m.end(1)))
            return "one_shot", readings
        after = "|".join(_EN_ONE_SHOT_AFTER)
        m = re.fullmatch(rf"(.+) (?:{after}) (?:the )?{inv}", said)
        if m:  # <utterance> with knee routine
            return "one_shot", [m.span(1)]
        m = re.fullmatch(rf"(.+) (?:the )?{inv}", said)
        if m:  # start knee routine: a sample itself, or a verb for the skill
            return "one_shot", [(0, len(said)), m.span(1)]
        return None

    def _invocation_unspaced(self, said: str) -> tuple[str, list[tuple[int, int]] | None] | None:
        inv = self.invocation_key
        if not said.startswith(inv):
            return None
        start, end = len(inv), len(said)
        for polite in _JA_POLITE:  # ...を開いてください
            polite_key = key(polite, self.locale)
            if said.endswith(polite_key) and end - len(polite_key) > start:
                end -= len(polite_key)
                break
        bare = start
        for particle in _JA_PARTICLES:  # ひざトレーニング|で|始めて
            if said.startswith(particle, start) and end > start + len(particle):
                bare = start + len(particle)
                break
        if said[bare:end] in {key(v, self.locale) for v in _JA_LAUNCH_VERBS}:
            return "launch", None
        readings = [(bare, end), (bare, len(said)), (start, len(said))]
        return "one_shot", list(dict.fromkeys(readings))


@functools.cache
def for_locale(locale: str) -> Nlu:
    """The NLU of ``interaction_models/<locale>.json`` (loaded once per process)."""
    return Nlu(load_model(locale), locale)
