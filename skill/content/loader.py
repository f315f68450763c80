"""Load and validate the spoken content under ``content/``.

``content/routine.yaml`` holds the timing model shared by every locale; ``content/<locale>/``
holds the words. Everything is checked at load, and a broken file raises ``ContentError`` naming
the file and the field. Content is loaded once per process (``load_content`` is cached).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from skill.content.files import ContentFiles, YamlError
from skill.core.routine import (  # the timing model is the core's; re-exported here
    EQUIPMENT,
    PACE_STEPS,
    SIDES,
    SIDES_KINDS,
    Routine,
    StepTiming,
    TimedPhase,
)

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
LOCALES = ("ja-JP", "en-US")
DEFAULT_LOCALE = "en-US"

# Every placeholder a prompt, cue or step text may use (the renderer supplies them).
PLACEHOLDERS = frozenset(
    {"number", "total", "title", "tool", "side", "Side", "days", "streak", "topics", "rest",
     "reps", "hold", "release", "time", "hour12", "minute", "ampm"}
)


class ContentError(ValueError):
    """A content file is missing, malformed, or lacks a field."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}")


# The content's records are immutable named tuples: a frozen dataclass costs every cold start
# about 1 ms to define (the code it generates is compiled at import), a named tuple a tenth.


class StepText(NamedTuple):
    id: str
    title: str
    purpose: str
    setup: tuple[str, ...]
    tips: tuple[str, ...]
    mistakes: tuple[str, ...]
    set_lead: str
    cues: Mapping[str, str]
    brief: str | None = None  # a regular's one-line setup (default: the first setup line)
    move: str | None = None  # the cue to get into this step's position (steps with move_seconds)
    between: str | None = None  # said in the rest between sets, e.g. "turn onto your other side"


class FaqTopic(NamedTuple):
    id: str
    name: str
    question: str
    phrasings: tuple[str, ...]
    answer: str


class SpeechRate(NamedTuple):
    unit: str  # "words" or "chars"
    per_second: float


class LocaleContent(NamedTuple):
    locale: str
    rate: SpeechRate
    sides: Mapping[str, str]
    side_titles: Mapping[str, str]
    tools: Mapping[str, str]
    counts: tuple[str, ...]
    list_separator: str
    utc_offset_hours: float
    pace_rates: Mapping[int, int]
    ampm: Mapping[str, str]
    preparation: tuple[str, ...]
    steps: tuple[StepText, ...]
    prompts: Mapping[str, tuple[str, ...]]
    faq: Mapping[str, FaqTopic]
    lexicon: Mapping[str, str]

    def prompt(self, key: str, variant: int = 0) -> str:
        options = self.prompts[key]
        return options[variant % len(options)]


class Content(NamedTuple):
    routine: Routine
    locales: Mapping[str, LocaleContent]

    def for_locale(self, locale: str | None) -> LocaleContent:
        """The content for ``locale``; unknown locales fall back to en-US."""
        return self.locales.get(locale or "", self.locales[DEFAULT_LOCALE])


# ---------------------------------------------------------------------------------------------
# Field readers: each names the file and the dotted field in its error.


class _Reader:
    def __init__(self, files: ContentFiles, path: Path) -> None:
        self.path = path
        try:
            self.data = files.load(path)
        except FileNotFoundError:
            raise ContentError(path, "(file)", "missing") from None
        except YamlError as e:
            raise ContentError(path, "(file)", f"not valid YAML: {e}") from None
        except UnicodeDecodeError as e:
            raise ContentError(path, "(file)", f"not UTF-8: {e}") from None

    def fail(self, field: str, problem: str) -> ContentError:
        return ContentError(self.path, field, problem)

    def get(self, obj: Any, key: str, field: str, kind: type | tuple[type, ...]) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            raise self.fail(field, "missing")
        value = obj[key]
        if kind in (int, float, (int, float)) and isinstance(value, bool):
            raise self.fail(field, "expected a number")
        if not isinstance(value, kind):
            raise self.fail(field, f"expected {_kind_name(kind)}, got {type(value).__name__}")
        return value

    def text(self, obj: Any, key: str, field: str) -> str:
        value = self.get(obj, key, field, (str, int, float))
        value = str(value).strip()
        if not value:
            raise self.fail(field, "is empty")
        self.check_placeholders(value, field)
        return value

    def texts(self, obj: Any, key: str, field: str) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        value = self.get(obj, key, field, (str, list))
        if isinstance(value, str):
            return (self.text(obj, key, field),)
        if not value:
            raise self.fail(field, "is an empty list")
        return tuple(self.text({"v": v}, "v", f"{field}[{i}]") for i, v in enumerate(value))

    def number(self, obj: Any, key: str, field: str, minimum: float = 0) -> float:
        value = self.get(obj, key, field, (int, float))
        if value < minimum:
            raise self.fail(field, f"must be at least {minimum}")
        return value

    def mapping(self, obj: Any, key: str, field: str) -> dict:
        return self.get(obj, key, field, dict)

    def check_placeholders(self, text: str, field: str) -> None:
        if "{" not in text and "}" not in text:  # most texts: nothing to parse
            return
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as e:
            raise self.fail(field, f"bad placeholder: {e}") from None
        unknown = names - PLACEHOLDERS
        if unknown:
            raise self.fail(field, f"unknown placeholder {{{sorted(unknown)[0]}}}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", list: "a list", dict: "a mapping", int: "a number", float: "a number"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


# ---------------------------------------------------------------------------------------------


def load_routine(files: ContentFiles, path: Path) -> Routine:
    r = _Reader(files, path)
    raw_steps = r.get(r.data, "steps", "steps", list)
    if not raw_steps:
        raise r.fail("steps", "is an empty list")
    steps, seen = [], set()
    for i, raw in enumerate(raw_steps):
        f = f"steps[{i}]"
        step_id = r.text(raw, "id", f"{f}.id")
        if step_id in seen:
            raise r.fail(f"{f}.id", f"duplicate step id {step_id!r}")
        seen.add(step_id)
        sides = r.text(raw, "sides", f"{f}.sides")
        if sides not in SIDES_KINDS:
            raise r.fail(f"{f}.sides", f"must be one of {', '.join(SIDES_KINDS)}")
        sets = 2 if sides == "each" else int(r.number(raw, "sets", f"{f}.sets", 1))
        raw_phases = r.get(raw, "phases", f"{f}.phases", list)
        if not raw_phases:
            raise r.fail(f"{f}.phases", "is an empty list")
        phases = []
        for j, p in enumerate(raw_phases):
            pf = f"{f}.phases[{j}]"
            seconds = r.number(p, "seconds", f"{pf}.seconds", 1)
            countdown = int(p.get("countdown", 0)) if isinstance(p, dict) else 0
            if not 0 <= countdown < seconds:
                raise r.fail(f"{pf}.countdown", "must be below the phase's seconds")
            relax = bool(p.get("relax", False))
            cue = r.text(p, "cue", f"{pf}.cue")
            phases.append(TimedPhase(cue, float(seconds), countdown, relax))
        article = r.mapping(raw, "article", f"{f}.article")
        per = r.text(article, "per", f"{f}.article.per")
        if per not in ("side", "step"):
            raise r.fail(f"{f}.article.per", "must be side or step")
        steps.append(
            StepTiming(
                id=step_id,
                sides=sides,
                sets=sets,
                reps=int(r.number(raw, "reps", f"{f}.reps", 1)),
                phases=tuple(phases),
                set_seconds=float(r.number(raw, "set_seconds", f"{f}.set_seconds", 1)),
                rest_seconds=int(r.number(raw, "rest_seconds", f"{f}.rest_seconds", 0)),
                article_text=r.text(article, "text", f"{f}.article.text"),
                article_min=float(r.number(article, "min_seconds", f"{f}.article.min_seconds", 1)),
                article_max=float(r.number(article, "max_seconds", f"{f}.article.max_seconds", 1)),
                article_per=per,
                move_seconds=int(r.number(raw, "move_seconds", f"{f}.move_seconds", 0))
                if isinstance(raw, dict) and "move_seconds" in raw else 0,
                between_move=isinstance(raw, dict) and raw.get("between_move") is True,
            )
        )
    return Routine(tuple(steps))


def load_locale(files: ContentFiles, directory: Path, locale: str,
                routine: Routine) -> LocaleContent:
    loc = _Reader(files, directory / "locale.yaml")
    rate_raw = loc.mapping(loc.data, "speech_rate", "speech_rate")
    unit = loc.text(rate_raw, "unit", "speech_rate.unit")
    if unit not in ("words", "chars"):
        raise loc.fail("speech_rate.unit", "must be words or chars")
    per_second = loc.number(rate_raw, "per_second", "speech_rate.per_second", 0.5)
    rate = SpeechRate(unit, float(per_second))
    sides = _names(loc, "sides", SIDES)
    side_titles = _names(loc, "side_titles", SIDES)
    tools = _names(loc, "tools", EQUIPMENT)
    counts = loc.texts(loc.data, "counts", "counts")
    if len(counts) < 4:
        raise loc.fail("counts", "needs the words for zero to three at least")
    separator = loc.get(loc.data, "list_separator", "list_separator", str)
    offset = loc.get(loc.data, "utc_offset_hours", "utc_offset_hours", (int, float))
    if not -12 <= offset <= 14:
        raise loc.fail("utc_offset_hours", "must be between -12 and 14")
    raw_rates = loc.mapping(loc.data, "pace_rates", "pace_rates")
    pace_rates = {}
    for pace in PACE_STEPS:
        percent = loc.number(raw_rates, pace, f"pace_rates.{pace}", 50)
        if percent > 200:
            raise loc.fail(f"pace_rates.{pace}", "must be at most 200 (percent)")
        pace_rates[pace] = int(percent)
    ampm = _names(loc, "ampm", ("am", "pm"))

    rt = _Reader(files, directory / "routine.yaml")
    preparation = rt.texts(rt.data, "preparation", "preparation")
    raw_steps = rt.get(rt.data, "steps", "steps", list)
    by_id = {}
    for i, raw in enumerate(raw_steps):
        f = f"steps[{i}]"
        step_id = rt.text(raw, "id", f"{f}.id")
        cues = {k: rt.text(rt.mapping(raw, "cues", f"{f}.cues"), k, f"{f}.cues.{k}")
                for k in rt.mapping(raw, "cues", f"{f}.cues")}
        by_id[step_id] = StepText(
            id=step_id,
            title=rt.text(raw, "title", f"{f}.title"),
            purpose=rt.text(raw, "purpose", f"{f}.purpose"),
            setup=rt.texts(raw, "setup", f"{f}.setup"),
            tips=rt.texts(raw, "tips", f"{f}.tips"),
            mistakes=rt.texts(raw, "mistakes", f"{f}.mistakes"),
            set_lead=rt.text(raw, "set_lead", f"{f}.set_lead"),
            cues=MappingProxyType(cues),
            **{k: rt.text(raw, k, f"{f}.{k}") for k in ("brief", "move", "between")
               if isinstance(raw, dict) and k in raw},
        )
    steps = []
    for i, timing in enumerate(routine.steps):
        text = by_id.get(timing.id)
        if text is None:
            raise rt.fail(f"steps[{i}]", f"no text for step {timing.id!r} (content/routine.yaml)")
        for phase in timing.phases:
            if phase.cue not in text.cues:
                raise rt.fail(f"steps[{i}].cues.{phase.cue}", "missing (the timing model uses it)")
        if timing.move_seconds and text.move is None:
            raise rt.fail(f"steps[{i}].move", "missing (content/routine.yaml gives move_seconds)")
        if timing.between_move and text.between is None:
            raise rt.fail(f"steps[{i}].between", "missing (content/routine.yaml: between_move)")
        steps.append(text)
    extra = set(by_id) - {s.id for s in routine.steps}
    if extra:
        raise rt.fail("steps", f"step {sorted(extra)[0]!r} is not in content/routine.yaml")

    pr = _Reader(files, directory / "prompts.yaml")
    if not isinstance(pr.data, dict) or not pr.data:
        raise pr.fail("(file)", "expected a mapping of prompt keys")
    prompts = {key: pr.texts(pr.data, key, key) for key in pr.data}

    fq = _Reader(files, directory / "faq.yaml")
    faq = {}
    for i, raw in enumerate(fq.get(fq.data, "topics", "topics", list)):
        f = f"topics[{i}]"
        topic = FaqTopic(
            id=fq.text(raw, "id", f"{f}.id"),
            name=fq.text(raw, "name", f"{f}.name"),
            question=fq.text(raw, "question", f"{f}.question"),
            phrasings=fq.texts(raw, "phrasings", f"{f}.phrasings"),
            answer=fq.text(raw, "answer", f"{f}.answer"),
        )
        if topic.id in faq:
            raise fq.fail(f"{f}.id", f"duplicate topic {topic.id!r}")
        faq[topic.id] = topic

    lexicon: dict[str, str] = {}
    if (directory / "lexicon.yaml").exists():
        lx = _Reader(files, directory / "lexicon.yaml")
        words = lx.mapping(lx.data, "words", "words")
        lexicon = {str(w): lx.text(words, w, f"words.{w}") for w in words}

    return LocaleContent(
        locale=locale,
        rate=rate,
        sides=sides,
        side_titles=side_titles,
        tools=tools,
        counts=counts,
        list_separator=separator,
        utc_offset_hours=float(offset),
        pace_rates=MappingProxyType(pace_rates),
        ampm=ampm,
        preparation=preparation,
        steps=tuple(steps),
        prompts=MappingProxyType(prompts),
        faq=MappingProxyType(faq),
        lexicon=MappingProxyType(lexicon),
    )


def _names(r: _Reader, key: str, required: tuple[str, ...]) -> Mapping[str, str]:
    raw = r.mapping(r.data, key, key)
    return MappingProxyType({k: r.text(raw, k, f"{key}.{k}") for k in required})


def load_from(directory: Path, locales: tuple[str, ...] = LOCALES) -> Content:
    """Load and validate the content tree at ``directory``."""
    files = ContentFiles(directory)
    routine = load_routine(files, directory / "routine.yaml")
    loaded = {loc: load_locale(files, directory / loc, loc, routine) for loc in locales}
    _check_same_keys(directory, loaded)
    files.save()  # only valid content is kept parsed
    return Content(routine, MappingProxyType(loaded))


def _check_same_keys(directory: Path, loaded: Mapping[str, LocaleContent]) -> None:
    """Every locale has the same prompt keys and FAQ topics as the default locale."""
    ref = loaded.get(DEFAULT_LOCALE) or next(iter(loaded.values()))
    for loc, content in loaded.items():
        for name, ours, theirs, file in (
            ("prompt", content.prompts, ref.prompts, "prompts.yaml"),
            ("FAQ topic", content.faq, ref.faq, "faq.yaml"),
        ):
            missing = sorted(set(theirs) - set(ours))
            if missing:
                raise ContentError(directory / loc / file, missing[0],
                                   f"{name} missing (present in {ref.locale})")
            extra = sorted(set(ours) - set(theirs))
            if extra:
                raise ContentError(directory / loc / file, extra[0],
                                   f"{name} not in {ref.locale}")


@functools.cache
def load_content() -> Content:
    """The packaged content, loaded once per process."""
    return load_from(CONTENT_DIR)
