"""A local stand-in for Alexa's language understanding, from ``interaction_models/<locale>.json``.

``for_locale(locale).understand(text)`` turns typed text into what Alexa would send: a launch, or
an intent with its slots (custom slots with entity resolution, ``AMAZON.NUMBER`` as digits,
``AMAZON.TIME`` as "HH:MM").
Nothing else is consulted: a phrasing the model does not list falls back, as on a device.

Matching works on a *key* of the text; ``skill.simulator.nlu_words`` makes keys and knows what
Alexa knows
besides the model (wake words, how a skill is named, spoken numbers and times).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skill.alexa.interaction_model import language_model, load_model
from skill.simulator.nlu_words import (
    NUMBER,
    TIME,
    Heard,
    alternation,
    is_unspaced,
    key,
    language_of,
    naming,
    parse_number,
    parse_time,
    wake_words,
)

FALLBACK = "AMAZON.FallbackIntent"
AUTHORITY = "amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}"
LOCAL_SKILL_ID = "amzn1.ask.skill.local-simulator"
_SLOT_REF = re.compile(r"\{(\w+)\}")

# A custom slot value that matches no listed value is still filled (ER_SUCCESS_NO_MATCH, as
# Alexa does) when the rest of the sample is at least this long; a bare "{slot}" never is.
_MIN_LITERAL_FOR_NO_MATCH = {"spaced": 2, "unspaced": 3}  # words / characters


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
    closest: tuple[str, ...] = ()  # on a fallback: the listed samples nearest to what was said

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
                "invocation": self.invocation, "sample": self.sample,
                "closest": list(self.closest)}


class Nlu:
    """Understanding for one locale's interaction model."""

    def __init__(self, model: Mapping[str, Any], locale: str,
                 skill_id: str = LOCAL_SKILL_ID) -> None:
        self.locale = locale
        self.skill_id = skill_id
        self.unspaced = is_unspaced(locale)
        self.naming = naming(language_of(locale))
        self.wake_keys = tuple(dict.fromkeys(key(wake, locale) for wake in wake_words()))
        lm = language_model(dict(model))
        self.invocation_name: str = lm["invocationName"]
        self.invocation_key = key(self.invocation_name, locale)
        self._keys: list[tuple[str, Sample]] | None = None
        self.intents: dict[str, dict[str, str]] = {}  # intent -> slot name -> type
        self.sample_texts: dict[str, list[str]] = {}  # intent -> its samples, as written
        self.samples: list[Sample] = []  # samples with slots, matched by pattern
        self.exact: dict[str, Sample] = {}  # samples without slots, by key (first listed wins)
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
                if sample is None:
                    continue
                if sample.slot_types:
                    self.samples.append(sample)
                else:
                    self.exact.setdefault(key(text, locale), sample)

    @property
    def launch_phrase(self) -> str:
        """How a person opens the skill: "open knee routine"."""
        return self.naming.launch_phrase.format(name=self._spoken_name)

    @property
    def one_shot_phrase(self) -> str:
        """How a person asks the skill something: "ask knee routine …"."""
        return self.naming.one_shot_phrase.format(name=self._spoken_name)

    @property
    def _spoken_name(self) -> str:
        return self.invocation_name.replace(" ", "") if self.unspaced else self.invocation_name

    def _compile(self, intent: str, text: str, slots: Mapping[str, str]) -> Sample | None:
        pieces, types, literal = [], {}, 0
        for i, part in enumerate(_SLOT_REF.split(text)):
            if i % 2:  # a slot reference
                if part not in slots:
                    return None  # `python -m skill.alexa.interaction_model check` reports these
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
        heard = Heard(text, self.locale)
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
        for wake_key in self.wake_keys:
            if said == wake_key:
                return len(said)
            prefix = wake_key if self.unspaced else wake_key + " "
            if said.startswith(prefix):
                return len(prefix)
        return 0

    def _match(self, text: str, heard: Heard, readings: list[tuple[int, int]],
               invocation: str | None) -> Understanding:
        """The best sample match over ``readings`` (spans of ``heard.key`` to try)."""
        best: tuple[tuple[int, int, int], Understanding] | None = None
        for start, end in readings:
            said = heard.key[start:end]
            plain = self.exact.get(said)
            if plain is not None:  # a listed sample said word for word: nothing scores higher
                score = (1, plain.literal, 1)
                if best is None or score > best[0]:
                    best = (score, Understanding(text, plain.intent, self._empty_slots(plain),
                                                 invocation, plain.text))
                continue
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
        said = heard.key[readings[0][0]:readings[0][1]] if readings else heard.key
        return Understanding(text, FALLBACK, {}, invocation, closest=self.closest(said))

    def _empty_slots(self, sample: Sample) -> dict[str, dict[str, Any]]:
        return {name: {"name": name, "confirmationStatus": "NONE"}
                for name in self.intents[sample.intent]}

    def closest(self, said: str, count: int = 3) -> tuple[str, ...]:
        """The ``count`` listed samples nearest to ``said`` (a key), for a content editor."""
        if not said:
            return ()
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(said)
        best: list[tuple[float, str]] = []  # (ratio, sample text), best first
        for candidate, sample in self._all_keys():
            floor = best[-1][0] if len(best) >= count else 0.0
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() <= floor or matcher.quick_ratio() <= floor:
                continue
            ratio = matcher.ratio()
            if ratio > floor and all(text != sample.text for _, text in best):
                best = sorted([*best, (ratio, sample.text)], key=lambda b: -b[0])[:count]
        return tuple(text for _, text in best)

    def _all_keys(self) -> list[tuple[str, Sample]]:
        if self._keys is None:
            keyed = [(k, s) for k, s in self.exact.items()]
            keyed += [(key(s.text, self.locale), s) for s in self.samples]
            self._keys = keyed
        return self._keys

    def _min_literal(self) -> int:
        return _MIN_LITERAL_FOR_NO_MATCH["unspaced" if self.unspaced else "spaced"]

    def _slots(self, sample: Sample, m: re.Match[str], heard: Heard, offset: int
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
        naming = self.naming
        inv = rf"(?:(?:{alternation(naming.articles)}) )?{re.escape(self.invocation_key)}"
        verbs, nouns = alternation(naming.launch_verbs), alternation(naming.skill_nouns)
        if re.fullmatch(rf"(?:{verbs}) {inv}(?: (?:{nouns}))?", said):
            return "launch", None
        m = re.fullmatch(rf"(?:{alternation(naming.one_shot_verbs)}) {inv} (.+)", said)
        if m:  # ask knee routine (to) <utterance>
            readings = [m.span(1)]
            first, _, tail = m.group(1).partition(" ")
            if first in naming.connectors and tail:
                readings.append((m.end(1) - len(tail), m.end(1)))
            return "one_shot", readings
        m = re.fullmatch(rf"(.+) (?:{alternation(naming.one_shot_after)}) {inv}", said)
        if m:  # <utterance> with knee routine
            return "one_shot", [m.span(1)]
        m = re.fullmatch(rf"(.+) {inv}", said)
        if m:  # start knee routine: a sample itself, or a verb for the skill
            return "one_shot", [(0, len(said)), m.span(1)]
        return None

    def _invocation_unspaced(self, said: str) -> tuple[str, list[tuple[int, int]] | None] | None:
        inv = self.invocation_key
        if not said.startswith(inv):
            return None
        start, end = len(inv), len(said)
        for polite in self.naming.polite_endings:  # <name> <particle> <verb> <polite ending>
            if said.endswith(polite) and end - len(polite) > start:
                end -= len(polite)
                break
        bare = start
        for particle in self.naming.particles:  # <name> | <particle> | <utterance>
            if said.startswith(particle, start) and end > start + len(particle):
                bare = start + len(particle)
                break
        if said[bare:end] in self.naming.launch_verbs:
            return "launch", None
        readings = [(bare, end), (bare, len(said)), (start, len(said))]
        return "one_shot", list(dict.fromkeys(readings))


@functools.cache
def for_locale(locale: str) -> Nlu:
    """The NLU of ``interaction_models/<locale>.json`` (loaded once per process)."""
    return Nlu(load_model(locale), locale)
