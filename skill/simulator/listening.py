"""How an Echo listens in time: device mode of the simulators.

After a response that keeps the session open, Alexa speaks (for the project's estimate of the
speech, ``skill.output.timing``, at the locale's stated rate); while it speaks only a line that
starts with a wake word (``nlu_builtins.yaml``) is heard, and that line interrupts it. Then
the microphone is open for 8 s; then Alexa says the reprompt and listens 8 s more; then the session
ends with a ``SessionEndedRequest`` (``EXCEEDED_MAX_REPROMPTS``). With no session open, only a line
with the wake word that names the skill ("Alexa, open knee routine", "Alexa, ask knee routine
…") reaches it.

Time comes from a clock: ``ScriptClock`` moves only when told (scripts and tests run instantly);
``RealClock`` is the wall clock, which ``/wait`` can also move ahead.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Protocol

from skill.content.loader import SpeechRate
from skill.simulator.device import Device, Exchange, Reply
from skill.simulator.nlu import Nlu
from skill.simulator.nlu_words import key
from skill.simulator.speech import Segment, spoken_seconds

LISTEN_SECONDS = 8.0  # how long an Echo's microphone stays open after speech

SPEAKING, LISTENING, REPROMPTING, LISTENING_AGAIN, CLOSED = (
    "speaking", "listening", "reprompting", "listening again", "closed")


class Clock(Protocol):
    """Seconds on a timeline; ``skip`` moves it ahead at once (the user waits)."""

    def now(self) -> float: ...

    def skip(self, seconds: float) -> None: ...


class ScriptClock:
    """Time that passes only when told to: a script or a test runs instantly."""

    def __init__(self) -> None:
        self._now = 0.0

    def now(self) -> float:
        return self._now

    def skip(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


class RealClock:
    """The wall clock (monotonic), which ``skip`` can move ahead."""

    def __init__(self) -> None:
        self._origin = time.monotonic()
        self._skipped = 0.0

    def now(self) -> float:
        return time.monotonic() - self._origin + self._skipped

    def skip(self, seconds: float) -> None:
        self._skipped += max(0.0, seconds)


def starts_with_wake_word(nlu: Nlu, text: str) -> bool:
    """Whether ``text`` begins with one of the wake words (``nlu_builtins.yaml``)."""
    said = key(text, nlu.locale)
    return any(said == wake or said.startswith(wake if nlu.unspaced else wake + " ")
               for wake in nlu.wake_keys)


def not_heard(nlu: Nlu, text: str, *, speaking: bool, session_open: bool) -> str | None:
    """Why the skill would not hear ``text`` on an Echo, or None when it would: "speaking" (Alexa
    was, and the wake word was not said), "idle" (no session is open and no wake word), or
    "unnamed" (no session is open and the skill was not named: Alexa answers it herself)."""
    woke = starts_with_wake_word(nlu, text)
    if not session_open:
        if not woke:
            return "idle"
        heard = nlu.understand(text)
        return None if heard is not None and heard.opens_session else "unnamed"
    return "speaking" if speaking and not woke else None


@dataclass(frozen=True)
class Window:
    """The microphone after one response, on the clock's timeline (seconds)."""

    start: float
    speech: float  # how long the response is said
    reprompt: float  # how long the reprompt is said
    has_reprompt: bool = True  # without one, the session ends after the first 8 s
    listen: float = LISTEN_SECONDS

    @property
    def speech_end(self) -> float:
        return self.start + self.speech

    @property
    def reprompt_start(self) -> float:
        return self.speech_end + self.listen

    @property
    def reprompt_end(self) -> float:
        return self.reprompt_start + self.reprompt

    @property
    def closes(self) -> float:
        return self.reprompt_end + self.listen if self.has_reprompt else self.reprompt_start

    def phase(self, t: float) -> str:
        if t < self.speech_end:
            return SPEAKING
        if t < self.reprompt_start:
            return LISTENING
        if not self.has_reprompt or t >= self.closes:
            return CLOSED
        return REPROMPTING if t < self.reprompt_end else LISTENING_AGAIN

    def marks(self) -> list[tuple[float, str]]:
        """When each phase begins after the speech, in order."""
        marks = [(self.speech_end, LISTENING)]
        if self.has_reprompt:
            marks += [(self.reprompt_start, REPROMPTING), (self.reprompt_end, LISTENING_AGAIN)]
        return [*marks, (self.closes, CLOSED)]


@dataclass
class Happening:
    """Something the user notices: ``kind`` is one of the phases, "said" (a reply began),
    "not heard", "interrupted" or "exchange"."""

    kind: str
    seconds: float = 0.0  # how long: the speech, the listening, or when in the speech
    reason: str = ""  # why a line was not heard (see ``not_heard``)
    reprompt: list[Segment] = field(default_factory=list)
    exchange: Exchange | None = None


@dataclass
class Echo:
    """A ``Device`` that keeps time as an Echo does (see the module docstring)."""

    device: Device
    rate: SpeechRate
    clock: Clock = field(default_factory=ScriptClock)
    listen: float = LISTEN_SECONDS
    window: Window | None = None
    _reported: int = 0  # marks of ``window`` already reported
    _reprompt: list[Segment] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.device.clock = lambda: base + dt.timedelta(seconds=self.clock.now())

    @property
    def phase(self) -> str:
        return self.window.phase(self.clock.now()) if self.window else CLOSED

    def next_mark(self) -> float | None:
        """When something next happens by itself (None when nothing will)."""
        if self.window is None:
            return None
        marks = self.window.marks()
        return marks[self._reported][0] if self._reported < len(marks) else None

    def catch_up(self) -> list[Happening]:
        """What happened by itself up to now: listening, the reprompt, the session's end."""
        out: list[Happening] = []
        while self.window is not None:
            upcoming = self.window.marks()[self._reported:]
            if not upcoming or upcoming[0][0] > self.clock.now():
                break
            _, mark = upcoming[0]
            self._reported += 1
            if mark in (LISTENING, LISTENING_AGAIN):
                out.append(Happening(mark, seconds=self.listen))
            elif mark == REPROMPTING:
                out.append(Happening(mark, seconds=self.window.reprompt,
                                     reprompt=list(self._reprompt)))
            else:
                self.window = None
                if self.device.session_open:
                    ended = self.device.end("EXCEEDED_MAX_REPROMPTS")
                    out.append(Happening(CLOSED, exchange=ended))
        return out

    def wait(self, seconds: float) -> list[Happening]:
        """The user says nothing for ``seconds``."""
        self.clock.skip(seconds)
        return self.catch_up()

    def wait_for_speech_end(self) -> list[Happening]:
        """The user waits until Alexa has stopped speaking (nothing, when it is not speaking)."""
        now, window = self.clock.now(), self.window
        if window is not None and window.phase(now) in (SPEAKING, REPROMPTING):
            end = window.speech_end if window.phase(now) == SPEAKING else window.reprompt_end
            self.clock.skip(end - now)
        return self.catch_up()

    def stay_silent(self) -> list[Happening]:
        """The user says nothing until the microphone closes: Alexa reprompts, or gives up."""
        now, window = self.clock.now(), self.window
        if window is None:
            return []
        phase = window.phase(now)
        until = window.reprompt_end if phase in (SPEAKING, LISTENING) else window.closes
        self.clock.skip(until - now)
        return self.catch_up()

    def say(self, text: str) -> list[Happening]:
        """The user says ``text`` now: heard, or not (and why)."""
        out = self.catch_up()
        now, window = self.clock.now(), self.window
        phase = window.phase(now) if window else CLOSED
        speaking = phase in (SPEAKING, REPROMPTING)
        reason = not_heard(self.device.nlu, text, speaking=speaking,
                           session_open=self.device.session_open)
        if reason is not None:
            return [*out, Happening("not heard", reason=reason)]
        if window is not None and speaking:
            began = window.start if phase == SPEAKING else window.reprompt_start
            out.append(Happening("interrupted", seconds=now - began))
        exchanges = self.device.hear(text)
        if not exchanges and window is not None and speaking:
            self._listen_from(now, window)  # only the wake word: Alexa stops and listens
            out.append(Happening(LISTENING, seconds=self.listen))
        for exchange in exchanges:
            out.append(Happening("exchange", exchange=exchange))
            if exchange.reply is not None:
                out.extend(self._replied(exchange.reply))
        if not self.device.session_open:
            self.window = None
        return out

    def _replied(self, reply: Reply) -> list[Happening]:
        if not reply.session_open:
            self.window = None
            return []
        speech = spoken_seconds(reply.ssml, self.rate)
        reprompt = spoken_seconds(reply.reprompt_ssml, self.rate)
        self.window = Window(self.clock.now(), speech, reprompt,
                             has_reprompt=bool(reply.reprompt), listen=self.listen)
        self._reported, self._reprompt = 0, list(reply.reprompt)
        return [Happening("said", seconds=speech)]

    def _listen_from(self, now: float, window: Window) -> None:
        self.window = Window(now, 0.0, window.reprompt, window.has_reprompt, self.listen)
        self._reported = 1  # the listening has begun: reported here
