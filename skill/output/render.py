"""Turn the machine's prompt keys into SSML, reprompts and cards, from the locale's content.

A timed set becomes one SSML response: the lead-in, each rep's cues with the holds and rests as
breaks (chained below Alexa's 10 s limit), a spoken countdown at the end of a hold, and a closing
line. Cue speech is fitted inside each hold at the locale's stated speaking rate.

What does not change is built once per process (bounded caches): each set's SSML together with
its narrated length (the Echo Show's countdown), each step's card and screen data, and each
rendered answer (its prompts, wording variant, tool and pace decide it).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

from skill.content.loader import LocaleContent
from skill.core.machine import DEFAULT_EQUIPMENT, Outcome, Prompt
from skill.core.routine import Routine, StepTiming
from skill.output import ssml
from skill.output.timing import speech_seconds

LEAD_IN_SECONDS = 1.5  # silence after the lead-in, to get into position
RELAX_TAIL_SECONDS = 1.0  # the last rest of a set, before the closing line
SECTION_PAUSE_SECONDS = 0.4  # between the parts of an intro, at the normal pace
GET_READY_SECONDS = 3.0  # silence before "starting now", at a set after a resume or a move
FINAL_SECONDS = 5  # a held rest or move says "five more seconds" this long before its end


class Card(NamedTuple):
    title: str
    text: str


class NarratedSet(NamedTuple):
    """A timed set's SSML fragment and how long it takes to say, counted while it is built."""

    ssml: str
    seconds: float


class _Narration:
    """SSML pieces and their spoken length (at the locale's normal rate), built side by side."""

    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer
        self.parts: list[str] = []
        self.seconds = 0.0

    def say(self, text: str, then_silence: float = 0.0) -> None:
        """``text``, then ``then_silence`` seconds of silence (none if not positive)."""
        self.parts.append(self.r._say(text) + ssml.pause(then_silence))
        self.seconds += self.r._seconds(text) + ssml.pause_seconds(then_silence)

    def done(self) -> NarratedSet:
        return NarratedSet(" ".join(self.parts), self.seconds)


class Rendered(NamedTuple):
    ssml: str
    reprompt: str | None
    card: Card | None


class Renderer:
    """Renders outcomes for one locale."""

    def __init__(self, content: LocaleContent, routine: Routine) -> None:
        self.c = content
        self.routine = routine
        # Sets, cards and screens depend only on their arguments and the content: build each
        # once per process, in caches bounded by what a routine has (steps x sets x sides x
        # equipment x paces) with room to spare.
        # The seed picks a wording variant by ``seed % len(variants)``: answers repeat with
        # the seed modulo every variant count, so the cache keys on that, not on the turn.
        self.seed_period = math.lcm(*(len(options) for options in content.prompts.values()))
        self._rendered = functools.lru_cache(maxsize=512)(self._rendered)
        self.narrated_set = functools.lru_cache(maxsize=1024)(self.narrated_set)
        self.step_card = functools.lru_cache(maxsize=128)(self.step_card)
        self.welcome_card = functools.lru_cache(maxsize=16)(self.welcome_card)
        self._screen_data = functools.lru_cache(maxsize=1024)(self._screen_data)
        self._intro = functools.lru_cache(maxsize=1024)(self._intro)
        self._say = functools.lru_cache(maxsize=4096)(self._say)  # a text's SSML, lexicon applied
        self._special = {
            "step_intro": self._step_intro,
            "set": self._set,
            "preparation": self._preparation,
            "faq_answer": self._faq_answer,
            "faq_unknown": self._faq_unknown,
            "reminder_set": self._reminder_set,
            "get_ready": self._get_ready,
            "rest": self._rest,
            "move": self._move,
            "move_between": self._move_between,
        }

    # -- public ---------------------------------------------------------------------------------

    def rate(self, pace: int) -> int:
        """The SSML prosody rate (percent) for a pace step."""
        return self.c.pace_rates.get(pace, 100)

    def render(self, outcome: Outcome, equipment: str | None = None, pace: int = 0) -> Rendered:
        return self._rendered(outcome.speech, outcome.reprompt, outcome.card,
                              outcome.seed % self.seed_period, equipment or DEFAULT_EQUIPMENT,
                              self.rate(pace))

    def _rendered(self, speech: tuple[Prompt, ...], reprompt: tuple[Prompt, ...],
                  card: Prompt | None, seed: int, tool: str, rate: int) -> Rendered:
        """An answer's SSML, reprompt and card (cached: the same for the same arguments)."""
        body = self.fragments(speech, seed, tool, rate)
        again = ssml.speak(self.fragments(reprompt, seed, tool, rate), rate) if reprompt else None
        shown = None
        if card is not None and card.key == "step_card":
            shown = self.step_card(card.args["step"], tool)
        elif card is not None:
            shown = self.welcome_card(tool)
        return Rendered(ssml.speak(body, rate), again, shown)

    def can_render(self, prompts: tuple[Prompt, ...]) -> bool:
        """Whether every prompt names a known key and, for steps and sets, one that exists."""
        for p in prompts:
            if p.key not in self._special and p.key not in self.c.prompts:
                return False
            args = p.args
            step = args.get("step", 0)
            if not isinstance(step, int) or not 0 <= step < self.routine.total_steps:
                return False
            if p.key == "set":
                index = args.get("set")
                timing = self.routine.steps[step]
                sets = timing.sets + (timing.sides == "each")  # + the weaker side's extra set
                if not isinstance(index, int) or not 0 <= index < sets:
                    return False
        return True

    def fragments(self, prompts: tuple[Prompt, ...], seed: int = 0,
                  tool: str = DEFAULT_EQUIPMENT, rate: int = 100) -> str:
        return " ".join(self.fragment(p, seed, tool, rate) for p in prompts)

    def fragment(self, prompt: Prompt, seed: int, tool: str, rate: int = 100) -> str:
        special = self._special.get(prompt.key)
        if special is not None:
            return special(prompt.args, seed, tool, rate)
        return self._say(self.line(prompt.key, prompt.args, seed, tool))

    def line(self, key: str, args: dict[str, Any], seed: int = 0,
             tool: str = DEFAULT_EQUIPMENT) -> str:
        """One prompt as plain text, placeholders filled."""
        options = self.c.prompts[key]
        template = options[(seed + _stable(key)) % len(options)]
        return template.format_map(self._params(args, tool))

    def narrate_set(self, step: int, set_index: int, tool: str, gentle: bool = False,
                    side: str | None = None, rate: int = 100) -> str:
        """The SSML fragment of one timed set (see ``narrated_set``)."""
        return self.narrated_set(step, set_index, tool, gentle, side, rate).ssml

    def narrated_set(self, step: int, set_index: int, tool: str, gentle: bool = False,
                     side: str | None = None, rate: int = 100) -> NarratedSet:
        """One timed set: its SSML fragment and its narrated length, built once.

        ``side`` names the leg of a one-side-at-a-time set (default: the timing model's);
        ``rate`` is the prosody rate: slower speech stretches the gaps between cues, never a hold.
        The length counts speech at the locale's normal rate and the breaks as written.
        """
        timing = self.routine.steps[step]
        words = self.c.steps[step]
        speed = rate / 100
        first_side = side if side is not None and timing.sides == "each" else None
        out = _Narration(self)
        if gentle:
            out.say(self.line("gentle_reminder", {}, 0, tool))
        lead = self._fill(words.set_lead, tool, first_side or timing.side_of(set_index))
        out.say(lead, LEAD_IN_SECONDS / speed)
        for rep in range(timing.reps):
            rep_side = first_side or timing.side_of(set_index, rep)
            last_rep = rep == timing.reps - 1
            for k, phase in enumerate(timing.phases):
                cue = self._fill(words.cues[phase.cue], tool, rep_side)
                cue = self._counted(cue, rep, timing.reps, k, len(timing.phases), tool)
                counted = phase.countdown  # each counted second: the number, then silence
                silent = phase.seconds - self._seconds(cue) / speed - counted
                if last_rep and phase.relax:
                    silent = min(silent, RELAX_TAIL_SECONDS / speed)
                out.say(cue, silent)
                for n in range(counted, 0, -1):
                    word = self.c.counts[n]
                    out.say(word, 1 - self._seconds(word) / speed)
        out.say(self.line("set_end", {}, set_index, tool))
        return out.done()

    def _counted(self, cue: str, rep: int, reps: int, phase: int, phases: int, tool: str) -> str:
        """A cue with where the person is: "2, ..." on a rep's first cue and "..., 3 more" on
        its last, so no line of a set is said twice and the person hears how many are left."""
        if phases > 1 and phase == 0:
            number = self.line("rep_number", {"number": rep + 1}, 0, tool)
            cue = number + (" " if number[-1].isascii() else "") + cue
        if phase == phases - 1 and rep < reps - 1:
            left = self.line("reps_left", {"number": reps - rep - 1}, 0, tool)
            cue = cue.rstrip("。.!！ ") + left
        return cue

    def screen(self, outcome: Outcome, equipment: str | None = None,
               pace: int = 0) -> dict[str, Any] | None:
        """What an Echo Show displays for a step's intro or timed set (None: nothing to show).

        A new dict each call (the caller may change it), copied from the cached data."""
        shown = [p for p in outcome.speech if p.key in ("set", "step_intro")]
        if not shown:
            return None
        args = shown[-1].args
        is_set = shown[-1].key == "set"
        data = self._screen_data(
            args["step"], args["set"] if is_set else None, args.get("side") if is_set else None,
            bool(args.get("gentle")) if is_set else False, equipment or DEFAULT_EQUIPMENT,
            self.rate(pace) if is_set else 100)
        return {**data, "cues": list(data["cues"])}

    def _screen_data(self, step: int, set_index: int | None, side: str | None, gentle: bool,
                     tool: str, rate: int) -> dict[str, Any]:
        """A step's screen (``set_index`` None: its intro), the set's length from the set's
        narration (the same cached ``NarratedSet`` the speech came from)."""
        words, timing = self.c.steps[step], self.routine.steps[step]
        data: dict[str, Any] = {
            "stepLabel": self.line("screen_step_label", {"number": step + 1}, 0, tool),
            "title": words.title, "side": "", "seconds": 0,
            "cues": tuple(self._fill(line, tool) for line in words.setup),
        }
        if set_index is None:
            return data
        leg = None
        if timing.sides == "each":
            leg = side or timing.side_of(set_index)
            data["side"] = self.line("screen_side", {"side": leg}, 0, tool)
        if timing.sides == "alternate":  # the cues name the leg: show the setup instead
            data["side"] = self.line("screen_alternate", {}, 0, tool)
        else:
            cues = (self._fill(words.cues[p.cue], tool, leg) for p in timing.phases)
            data["cues"] = tuple(dict.fromkeys(cues))
        narrated = self.narrated_set(step, set_index, tool, gentle, side, rate)
        data["seconds"] = round(narrated.seconds)
        return data

    def step_card(self, step: int, tool: str) -> Card:
        """A step's card: purpose, setup, tips, mistakes and timing (built once per step)."""
        words, timing = self.c.steps[step], self.routine.steps[step]
        title = self.line("card_title", {"number": step + 1, "step": step}, 0, tool)

        def section(key: str, lines: tuple[str, ...]) -> str:
            body = "\n".join(f"• {self._fill(line, tool)}" for line in lines)
            return f"{self.line(key, {}, 0, tool)}\n{body}"

        text = "\n\n".join([
            self._fill(words.purpose, tool),
            section("card_setup", words.setup),
            section("card_tips", words.tips),
            section("card_mistakes", words.mistakes),
            section("card_timing", (self._timing_line(timing, tool),)),
        ])
        return Card(title, text)

    def welcome_card(self, tool: str) -> Card:
        lines = (self.line("disclaimer", {}, 0, tool),
                 *(self._fill(line, tool) for line in self.c.preparation),
                 self.line("help_welcome", {}, 0, tool))
        return Card(self.line("card_welcome_title", {}, 0, tool), "\n\n".join(lines))

    # -- special prompts ------------------------------------------------------------------------

    def _step_intro(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        # Only the wording variant depends on the seed: key the cache on it, not on the turn.
        kind = "brief" if args.get("brief") else "detail" if args.get("detail") else "first"
        period = len(self.c.prompts["step_heading"])
        return self._intro(args["step"], kind, seed % period, tool, rate)

    def _intro(self, step: int, kind: str, seed: int, tool: str, rate: int) -> str:
        """A step's spoken intro (cached: the same for the same step, wording and pace)."""
        words = self.c.steps[step]
        heading = self.line("step_heading", {"number": step + 1, "step": step}, seed, tool)
        if kind == "brief":  # a regular: the title and the one cue that sets them up
            sections = [heading, words.brief or words.setup[0]]
        elif kind == "detail":  # "explain": why, how, every tip and mistake
            sections = [heading, words.purpose, *words.setup, *words.tips, *words.mistakes]
        else:  # how to do it and the one mistake to avoid; "explain" and the card say the rest
            sections = [heading, *words.setup, *words.mistakes[:1]]
        pause = ssml.pause(SECTION_PAUSE_SECONDS * 100 / rate)
        return pause.join(self._say(self._fill(s, tool)) for s in sections)

    def _set(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        return self.narrated_set(args["step"], args["set"], tool, bool(args.get("gentle")),
                                 args.get("side"), rate).ssml

    def _get_ready(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        """A few seconds to settle, then "starting now" (before a set after a resume or move)."""
        return ssml.pause(GET_READY_SECONDS) + self._say(self.line("get_ready", {}, seed, tool))

    def _rest(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        return self._held(self.line("rest_hint", {}, seed, tool), args["seconds"], seed, tool,
                          rate)

    def _move(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        cue = self.c.steps[args["step"]].move or ""
        return self._held(self._fill(cue, tool), args["seconds"], seed, tool, rate)

    def _move_between(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        cue = self.c.steps[args["step"]].between or ""
        return self._held(self._fill(cue, tool, args.get("side")), args["seconds"], seed, tool,
                          rate)

    def _held(self, cue: str, seconds: float, seed: int, tool: str, rate: int) -> str:
        """``cue``, then silence until ``seconds`` from its start have passed, with a quiet
        "five more seconds" near the end of a long one: the question that follows is the
        last thing said, so the microphone opens when the person is ready."""
        speed = rate / 100
        left = seconds - self._seconds(cue) / speed
        if seconds < 2 * FINAL_SECONDS:
            return self._say(cue) + ssml.pause(left)
        final = self.line("rest_final", {"rest": FINAL_SECONDS}, seed, tool)
        return (self._say(cue) + ssml.pause(left - FINAL_SECONDS)
                + f'<prosody volume="soft">{self._say(final)}</prosody>'
                + ssml.pause(FINAL_SECONDS - self._seconds(final) / speed))

    def _preparation(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        pause = ssml.pause(SECTION_PAUSE_SECONDS * 100 / rate)
        return pause.join(self._say(self._fill(s, tool)) for s in self.c.preparation)

    def _faq_answer(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        topic = self.c.faq.get(args.get("topic") or "")
        if topic is None:
            return self._faq_unknown(args, seed, tool, rate)
        return self._say(topic.answer)

    def _reminder_set(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        return self._say(self.line("reminder_set", {"time": self.clock(args["time"])}, seed, tool))

    def clock(self, hhmm: str) -> str:
        """A "HH:MM" time as the locale says it ("9 a.m." in en-US), from content/."""
        hour, minute = (int(x) for x in hhmm.split(":"))
        params = {"hour12": hour % 12 or 12, "minute": f"{minute:02d}",
                  "ampm": self.c.ampm["am" if hour < 12 else "pm"]}
        return self.line("clock_hour" if minute == 0 else "clock_hour_minute", params)

    def _faq_unknown(self, args: dict[str, Any], seed: int, tool: str, rate: int = 100) -> str:
        names = self.c.list_separator.join(t.name for t in self.c.faq.values())
        return self._say(self.line("faq_unknown", {"topics": names}, seed, tool))

    # -- helpers --------------------------------------------------------------------------------

    def _params(self, args: dict[str, Any], tool: str) -> dict[str, Any]:
        params = dict(args)
        params["total"] = self.routine.total_steps
        params["tool"] = self.c.tools[params.get("tool") or tool]
        if "step" in params and 0 <= params["step"] < len(self.c.steps):
            params.setdefault("title", self.c.steps[params["step"]].title)
        side = params.get("side")
        if side in self.c.sides:
            params["side"], params["Side"] = self.c.sides[side], self.c.side_titles[side]
        return params

    def _fill(self, text: str, tool: str, side: str | None = None) -> str:
        params: dict[str, Any] = {"tool": tool}
        if side is not None:
            params["side"] = side
        return text.format_map(self._params(params, tool))

    def _timing_line(self, t: StepTiming, tool: str) -> str:
        hold = t.phases[0].seconds
        release = t.phases[1].seconds if len(t.phases) > 1 else hold
        reps = t.reps if t.sides == "each" else t.reps * t.sets
        args = {"reps": reps, "hold": _num(hold), "release": _num(release)}
        return self.line(f"timing_{t.sides}", args, 0, tool)

    def _say(self, value: str) -> str:
        return ssml.text(value, self.c.lexicon)

    def _seconds(self, value: str) -> float:
        return speech_seconds(ssml.readings(value, self.c.lexicon), self.c.rate)


def _stable(key: str) -> int:
    """A per-key offset, stable across processes (``hash`` is salted)."""
    return sum(key.encode())


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
