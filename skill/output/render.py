"""Turn the machine's prompt keys into SSML, reprompts and cards, from the locale's content.

A timed set becomes one SSML response: the lead-in, each rep's cues with the holds and rests as
breaks (chained below Alexa's 10 s limit), a spoken countdown at the end of a hold, and a closing
line. Cue speech is fitted inside each hold at the locale's stated speaking rate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from skill.content.loader import LocaleContent, Routine, StepTiming
from skill.core.machine import DEFAULT_EQUIPMENT, Outcome, Prompt
from skill.output import ssml
from skill.output.timing import speech_seconds, ssml_seconds

LEAD_IN_SECONDS = 1.5  # silence after the lead-in, to get into position
RELAX_TAIL_SECONDS = 1.0  # the last rest of a set, before the closing line
SECTION_PAUSE_SECONDS = 0.4  # between the parts of an intro, at the normal pace
GET_READY_SECONDS = 3.0  # silence before "starting now", at a set after a resume or a move
FINAL_SECONDS = 5  # a held rest or move says "five more seconds" this long before its end


@dataclass(frozen=True)
class Card:
    title: str
    text: str


@dataclass(frozen=True)
class Rendered:
    ssml: str
    reprompt: str | None
    card: Card | None


class Renderer:
    """Renders outcomes for one locale."""

    def __init__(self, content: LocaleContent, routine: Routine) -> None:
        self.c = content
        self.routine = routine
        # A set's SSML depends only on its arguments and the content: build each one once.
        self.narrate_set = functools.lru_cache(maxsize=512)(self.narrate_set)
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
        tool = equipment or DEFAULT_EQUIPMENT
        rate = self.rate(pace)
        body = self.fragments(outcome.speech, outcome.seed, tool, rate)
        reprompt = None
        if outcome.reprompt:
            reprompt = ssml.speak(self.fragments(outcome.reprompt, outcome.seed, tool, rate), rate)
        card = None
        if outcome.card is not None and outcome.card.key == "step_card":
            card = self.step_card(outcome.card.args["step"], tool)
        elif outcome.card is not None:
            card = self.welcome_card(tool)
        return Rendered(ssml.speak(body, rate), reprompt, card)

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
        """The SSML fragment of one timed set.

        ``side`` names the leg of a one-side-at-a-time set (default: the timing model's);
        ``rate`` is the prosody rate: slower speech stretches the gaps between cues, never a hold.
        """
        timing = self.routine.steps[step]
        words = self.c.steps[step]
        speed = rate / 100
        first_side = side if side is not None and timing.sides == "each" else None
        parts = []
        if gentle:
            parts.append(self._say(self.line("gentle_reminder", {}, 0, tool)))
        lead = self._fill(words.set_lead, tool, first_side or timing.side_of(set_index))
        parts.append(self._say(lead) + ssml.pause(LEAD_IN_SECONDS / speed))
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
                parts.append(self._say(cue) + ssml.pause(silent))
                for n in range(counted, 0, -1):
                    word = self.c.counts[n]
                    parts.append(self._say(word) + ssml.pause(1 - self._seconds(word) / speed))
        parts.append(self._say(self.line("set_end", {}, set_index, tool)))
        return " ".join(parts)

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
        """What an Echo Show displays for a step's intro or timed set (None: nothing to show)."""
        tool = equipment or DEFAULT_EQUIPMENT
        shown = [p for p in outcome.speech if p.key in ("set", "step_intro")]
        if not shown:
            return None
        args = shown[-1].args
        step = args["step"]
        words, timing = self.c.steps[step], self.routine.steps[step]
        data: dict[str, Any] = {
            "stepLabel": self.line("screen_step_label", {"number": step + 1}, 0, tool),
            "title": words.title, "side": "", "seconds": 0,
            "cues": [self._fill(line, tool) for line in words.setup],
        }
        if shown[-1].key != "set":
            return data
        side = None
        if timing.sides == "each":
            side = args.get("side") or timing.side_of(args["set"])
            data["side"] = self.line("screen_side", {"side": side}, 0, tool)
        if timing.sides == "alternate":  # the cues name the leg: show the setup instead
            data["side"] = self.line("screen_alternate", {}, 0, tool)
        else:
            cues = (self._fill(words.cues[p.cue], tool, side) for p in timing.phases)
            data["cues"] = list(dict.fromkeys(cues))
        fragment = self._set(args, 0, tool, self.rate(pace))  # the set just narrated (cached)
        data["seconds"] = round(ssml_seconds(fragment, self.c.rate))
        return data

    def step_card(self, step: int, tool: str) -> Card:
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
        step = args["step"]
        words = self.c.steps[step]
        heading = self.line("step_heading", {"number": step + 1, "step": step}, seed, tool)
        if args.get("brief"):  # a regular: the title and the one cue that sets them up
            sections = [heading, words.brief or words.setup[0]]
        elif args.get("detail"):  # "explain": why, how, every tip and mistake
            sections = [heading, words.purpose, *words.setup, *words.tips, *words.mistakes]
        else:  # how to do it and the one mistake to avoid; "explain" and the card say the rest
            sections = [heading, *words.setup, *words.mistakes[:1]]
        pause = ssml.pause(SECTION_PAUSE_SECONDS * 100 / rate)
        return pause.join(self._say(self._fill(s, tool)) for s in sections)

    def _set(self, args: dict[str, Any], seed: int, tool: str, rate: int) -> str:
        return self.narrate_set(args["step"], args["set"], tool, bool(args.get("gentle")),
                                args.get("side"), rate)

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
