"""``knee-routine chat``: talk to the skill in text, as an Echo would carry the conversation.

Typed text goes through the interaction model (``skill.simulator.nlu``) into a real request
envelope (one
session id, the new flag, session attributes sent back each turn, a user id, the locale); the
skill answers in-process (SQLite store) or over HTTP (``--url``). What Alexa would say is printed
readably: SSML tags dropped, ``<break>`` pauses shown as ``[10 s]`` (chained breaks summed), then
the reprompt, the card and whether the session stays open. Without a terminal, a script is read
from stdin, one utterance a line (``#`` comments; ``/silence``, ``/end``, ``/quit``).

``Device`` and ``speech_segments`` are shared with the browser simulator
(``skill.simulator.browser``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html
import json
import os
import re
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from skill.output.timing import break_seconds
from skill.simulator.nlu import LOCAL_SKILL_ID, Nlu, Understanding, for_locale

Send = Callable[[dict[str, Any]], dict[str, Any]]

DEFAULT_CHAT_DB = Path("var") / "chat.sqlite3"
DEFAULT_USER = "chat-user"
MIN_SHOWN_PAUSE = 1.0  # seconds; shorter breaks are pacing, shown as a space
HTTP_TIMEOUT = 10.0


class SkillError(Exception):
    """The skill refused the request, or answered with something that is not a response."""


class SkillUnreachable(SkillError):
    """Nothing answered at the skill's address."""


# -- speech: SSML as a person hears it -----------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch of speech (``text``, at ``rate`` percent) or of silence (``pause`` seconds)."""

    text: str = ""
    pause: float = 0.0
    rate: int = 100

    def to_json(self) -> dict[str, Any]:
        if self.pause:
            return {"pause": round(self.pause, 3)}
        return {"text": self.text, "rate": self.rate}


_TAG = re.compile(r"<(/?)([\w:-]+)([^>]*?)(/?)>|([^<]+)", re.S)
_ATTR = re.compile(r"([\w:-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


def speech_segments(ssml: str) -> list[Segment]:
    """SSML as speech and silences, in order: written text, adjacent breaks summed."""
    segments: list[Segment] = []
    words: list[str] = []
    rates = [100]  # <prosody rate="90%"> nesting
    skip = 0  # inside an element whose text is not spoken

    def flush() -> None:
        text = re.sub(r"\s+", " ", "".join(words)).strip()
        words.clear()
        if text:
            segments.append(Segment(text=text, rate=rates[-1]))

    for m in _TAG.finditer(ssml or ""):
        closing, name, attrs, empty, text = m.groups()
        if text is not None:
            if not skip:
                words.append(html.unescape(text))
            continue
        name = name.lower()
        attributes = {k: v[1:-1] for k, v in _ATTR.findall(attrs)}
        if name == "break":
            flush()
            segments.append(Segment(pause=_break_seconds(attributes)))
        elif name == "prosody" and not empty:
            flush()
            if closing:
                rates = rates[:-1] or [100]
            else:
                rates.append(_percent(attributes.get("rate"), rates[-1]))
        elif name == "audio" and not closing:
            words.append(" [audio] ")
        elif name == "desc" and not empty:  # an audio clip's description is not spoken
            skip = max(0, skip + (-1 if closing else 1))
        elif name in ("p", "s"):
            words.append(" ")
        # any other tag (sub, say-as, phoneme, lang, ...): its written text is shown
    flush()
    return _merged(segments)


def _merged(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if seg.pause <= 0 and not seg.text:
            continue
        if out and seg.pause and out[-1].pause:
            out[-1] = Segment(pause=out[-1].pause + seg.pause)
        elif out and seg.text and out[-1].text and seg.rate == out[-1].rate:
            out[-1] = Segment(text=f"{out[-1].text} {seg.text}", rate=seg.rate)
        else:
            out.append(seg)
    return out


def _break_seconds(attributes: Mapping[str, str]) -> float:
    try:
        return break_seconds(dict(attributes))
    except ValueError:
        return 0.0


def _percent(value: str | None, current: int) -> int:
    m = re.fullmatch(r"\s*(\d{1,3})%\s*", value or "")
    return int(m.group(1)) if m else current


def format_pause(seconds: float) -> str:
    value = f"{seconds:.1f}".removesuffix(".0")
    return f"[{value} s]"


def readable(segments: Iterable[Segment]) -> str:
    """Speech as lines of text; a pause worth noticing ends its line as ``[10 s]``."""
    lines, current = [], ""
    for seg in segments:
        if seg.text:
            current = f"{current} {seg.text}".strip()
        elif seg.pause >= MIN_SHOWN_PAUSE:
            lines.append(f"{current} {format_pause(seg.pause)}".strip())
            current = ""
    if current:
        lines.append(current)
    return "\n".join(lines)


def output_ssml(speech: Any) -> str:
    """The SSML (or plain text, escaped) of an ``outputSpeech`` object."""
    if not isinstance(speech, Mapping):
        return ""
    if isinstance(speech.get("ssml"), str):
        return speech["ssml"]
    text = speech.get("text")
    return html.escape(text) if isinstance(text, str) else ""


# -- the device: sessions and envelopes ----------------------------------------------------------


@dataclass
class Reply:
    """One response, as the user would experience it."""

    speech: list[Segment]
    reprompt: list[Segment]
    card: dict[str, str] | None
    session_open: bool
    raw: dict[str, Any]

    @classmethod
    def of(cls, envelope: Mapping[str, Any]) -> Reply:
        response = envelope.get("response") if isinstance(envelope, Mapping) else None
        response = response if isinstance(response, Mapping) else {}
        reprompt = response.get("reprompt")
        reprompt_speech = reprompt.get("outputSpeech") if isinstance(reprompt, Mapping) else None
        card = response.get("card")
        return cls(
            speech=speech_segments(output_ssml(response.get("outputSpeech"))),
            reprompt=speech_segments(output_ssml(reprompt_speech)),
            card=_card(card) if isinstance(card, Mapping) else None,
            session_open=response.get("shouldEndSession") is False,
            raw=dict(envelope),
        )

    def to_json(self) -> dict[str, Any]:
        return {"speech": [s.to_json() for s in self.speech],
                "speechText": readable(self.speech),
                "reprompt": [s.to_json() for s in self.reprompt],
                "repromptText": readable(self.reprompt),
                "card": self.card, "sessionOpen": self.session_open, "envelope": self.raw}


def _card(card: Mapping[str, Any]) -> dict[str, str]:
    text = card.get("text") if card.get("text") is not None else card.get("content")
    return {"type": str(card.get("type", "")), "title": str(card.get("title") or ""),
            "text": str(text or "")}


@dataclass
class Exchange:
    """A turn: what was heard, what was sent, and the reply (None for a SessionEndedRequest)."""

    heard: Understanding | None
    request: dict[str, Any]
    reply: Reply | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"heard": self.heard.to_json() if self.heard else None,
                "requestType": self.request["request"]["type"], "request": self.request,
                "reply": self.reply.to_json() if self.reply else None, "notes": self.notes}


@dataclass
class Device:
    """An Echo in text: keeps the session (id, new flag, attributes) and builds envelopes."""

    send: Send
    locale: str
    user_id: str = f"amzn1.ask.account.{DEFAULT_USER}"
    skill_id: str = LOCAL_SKILL_ID
    device_id: str = "amzn1.ask.device.local-simulator"
    session_id: str | None = None  # None when no session is open
    attributes: dict[str, Any] = field(default_factory=dict)
    new: bool = True
    reprompted: bool = False  # the reprompt was spoken after a silence
    last_reprompt: list[Segment] = field(default_factory=list)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    @property
    def nlu(self) -> Nlu:
        return for_locale(self.locale)

    @property
    def session_open(self) -> bool:
        return self.session_id is not None

    def hear(self, text: str) -> list[Exchange]:
        """What happens when the user says ``text`` (two requests when it replaces a session)."""
        heard = self.nlu.understand(text, in_session=self.session_open)
        if heard is None:
            return []
        exchanges = []
        if heard.opens_session and self.session_open:
            ended = self.end("USER_INITIATED")
            ended.notes.append("a new session replaces the open one")
            exchanges.append(ended)
        notes = []
        if not self.session_open:
            self._open()
            if not heard.opens_session:
                notes.append("no session was open: sent as a one-shot, as in "
                             f'"{self.nlu.one_shot_phrase}"')
        self.reprompted = False
        exchange = self._exchange(heard, heard.request())
        exchange.notes[:0] = notes
        exchanges.append(exchange)
        return exchanges

    def silence(self) -> Exchange | None:
        """The user says nothing: Alexa speaks the reprompt once, then ends the session."""
        if not self.session_open:
            return None
        if not self.reprompted and self.last_reprompt:
            self.reprompted = True
            return None
        return self.end("EXCEEDED_MAX_REPROMPTS")

    def end(self, reason: str = "USER_INITIATED") -> Exchange:
        """Send a SessionEndedRequest and close the session."""
        if not self.session_open:
            self._open()
        try:
            return self._exchange(None, {"type": "SessionEndedRequest", "reason": reason})
        finally:
            self.close()

    # -- internals ------------------------------------------------------------------------------

    def _open(self) -> None:
        self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        self.attributes, self.new, self.reprompted, self.last_reprompt = {}, True, False, []

    def close(self) -> None:
        """Forget the session (Alexa closed it, or the skill could not be reached)."""
        self.session_id, self.attributes, self.last_reprompt = None, {}, []

    def _exchange(self, heard: Understanding | None, request: dict[str, Any]) -> Exchange:
        envelope = self.envelope(request)
        answer = self.send(envelope)
        self.new = False
        if request["type"] == "SessionEndedRequest":
            return Exchange(heard, envelope, None)
        reply = Reply.of(answer)
        if reply.session_open:
            attributes = answer.get("sessionAttributes")
            self.attributes = dict(attributes) if isinstance(attributes, Mapping) else {}
            self.last_reprompt = reply.reprompt
        else:
            self.close()
        return Exchange(heard, envelope, reply)

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """A request envelope in this session, as Alexa sends it."""
        app, user = {"applicationId": self.skill_id}, {"userId": self.user_id}
        return {
            "version": "1.0",
            "session": {"new": self.new, "sessionId": self.session_id, "application": app,
                        "user": user, "attributes": self.attributes},
            "context": {"System": {
                "application": app, "user": user,
                "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
            }},
            "request": {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                        "timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "locale": self.locale, **request},
        }


# -- transports ----------------------------------------------------------------------------------


def in_process(db: Path | str) -> Send:
    """Answer with the skill built in this process, storing users in the SQLite file ``db``."""
    from skill.alexa.runtime import SkillConfig, SkillRuntime
    from skill.storage.sqlite import SQLiteAdapter

    return runtime_sender(SkillRuntime(SkillConfig(persistence=SQLiteAdapter(db))))


def runtime_sender(runtime: Any) -> Send:
    """Answer with ``runtime``; a refused request becomes a ``SkillError``."""
    from skill.alexa.runtime import BadRequest

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        try:
            return runtime.handle(envelope)
        except BadRequest as e:
            raise SkillError(f"the skill refused the request: {e}") from None

    return send


def over_http(url: str, timeout: float = HTTP_TIMEOUT) -> Send:
    """Answer with the skill's web service at ``url`` (e.g. http://127.0.0.1:5000/alexa)."""
    import requests

    http = requests.Session()

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = http.post(url, json=envelope, timeout=timeout)
        except requests.RequestException as e:
            raise SkillUnreachable(f"could not reach {url}: {type(e).__name__}") from None
        if answer.status_code != 200:
            raise SkillError(f"{url} answered HTTP {answer.status_code}: {answer.text[:200]}")
        try:
            return answer.json()
        except ValueError:
            raise SkillError(f"{url} did not answer with JSON") from None

    return send


# -- the terminal --------------------------------------------------------------------------------

COMMANDS = {
    "/silence": "say nothing: Alexa reprompts once, then ends the session",
    "/end": "end the session (SessionEndedRequest, USER_INITIATED)",
    "/json": "show or hide the raw response JSON",
    "/help": "this list",
    "/quit": "leave (an open session is ended first)",
}
WIDTH = 100  # display columns (a Japanese character takes two)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` display columns, broken at spaces or after 。、."""
    pieces = re.findall(r"[^\s。、！？]*[。、！？]+\s*|\S+\s*|\s+", text)
    lines, line = [], ""
    for piece in pieces:
        if line and _columns(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        while _columns(piece.rstrip()) > width:  # one unbroken run: cut it
            cut = _fit(piece, width)
            lines.append(piece[:cut])
            piece = piece[cut:]
        line += piece if line or not piece.isspace() else ""
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> int:
    used = 0
    for i, ch in enumerate(text):
        used += _columns(ch)
        if used > width:
            return max(i, 1)
    return len(text)


class Printer:
    def __init__(self, out: TextIO, show_json: bool = False) -> None:
        self.out, self.show_json = out, show_json

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def block(self, label: str, text: str, indent: int | None = None) -> None:
        """``label`` and ``text``, wrapped; following lines line up under the text."""
        pad = " " * (len(label) + 1 if indent is None else indent)
        first = True
        for paragraph in text.splitlines() or [""]:
            hang = " " * len(re.match(r"(?:[•\-*] )?", paragraph).group())  # under a bullet
            lines = wrap(paragraph, WIDTH - len(pad) - len(hang)) if paragraph else [""]
            for n, line in enumerate(lines):
                line = f"{hang}{line}" if n else line
                self.line(f"{label} {line}" if first else f"{pad}{line}".rstrip())
                first = False

    def exchange(self, ex: Exchange) -> None:
        for note in ex.notes:
            self.line(f"  ({note})")
        if ex.heard is not None:
            self.line(f"  -> {describe(ex.heard)}")
        if ex.reply is None:
            reason = ex.request["request"].get("reason", "")
            self.line(f"  -> SessionEndedRequest ({reason}): the skill may not speak")
            self.line("  [session ended]")
            return
        reply = ex.reply
        self.block("Alexa:", readable(reply.speech) or "(nothing)")
        if reply.reprompt:
            self.block("  reprompt:", readable(reply.reprompt))
        if reply.card:
            self.block("  card:", f"{reply.card['title']}\n{reply.card['text']}", indent=4)
        self.line("  [session open: Alexa is listening]" if reply.session_open
                  else "  [session ended]")
        if self.show_json:
            self.line(json.dumps(reply.raw, ensure_ascii=False, indent=2))


def describe(heard: Understanding) -> str:
    """The resolved request in one line: ``GoToStepIntent step=3``."""
    parts = ["LaunchRequest" if heard.intent is None else heard.intent]
    for name, slot in heard.slots.items():
        if "value" not in slot:
            continue
        resolved = _resolution(slot)
        parts.append(f"{name}={slot['value']!r}" + (f" ({resolved})" if resolved else ""))
    if heard.invocation == "one_shot":
        parts.append("[one-shot]")
    if heard.sample:
        parts.append(f'· sample "{heard.sample}"')
    return " ".join(parts)


def _resolution(slot: Mapping[str, Any]) -> str:
    for authority in slot.get("resolutions", {}).get("resolutionsPerAuthority", []):
        code = authority["status"]["code"]
        ids = [v["value"]["id"] for v in authority.get("values", [])]
        return f"{code} {', '.join(ids)}".strip()
    return ""


def utterances(stream: TextIO, interactive: bool, printer: Printer) -> Iterator[str]:
    """Lines the user says: prompted at a terminal, read (and echoed) from a script otherwise."""
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing at the prompt)
        while True:
            try:
                yield input("you> ")
            except EOFError:
                printer.line()
                return
    for raw in stream:
        line = raw.strip()
        if line and not line.startswith("#"):
            printer.line(f"you> {line}")
            yield line


def converse(device: Device, lines: Iterable[str], printer: Printer) -> int:
    """Run a conversation; 0 when every turn was answered, 1 otherwise."""
    failed = False
    try:
        for text in lines:
            command = text.strip().lower()
            if command in ("/quit", "/exit"):
                break
            if command == "/help":
                for name, what in COMMANDS.items():
                    printer.line(f"  {name:<9} {what}")
                continue
            if command == "/json":
                printer.show_json = not printer.show_json
                continue
            try:
                if command == "/silence":
                    _silence(device, printer)
                elif command == "/end":
                    if device.session_open:
                        printer.exchange(device.end("USER_INITIATED"))
                    else:
                        printer.line("  (no session is open)")
                else:
                    for exchange in device.hear(text):
                        printer.exchange(exchange)
            except SkillError as e:
                printer.line(f"  error: {e}")
                failed = True
                device.close()
                if isinstance(e, SkillUnreachable):
                    break
    finally:
        if device.session_open:
            try:
                ended = device.end("USER_INITIATED")
                ended.notes.append("you left")
                printer.exchange(ended)
            except SkillError as e:
                printer.line(f"  error: {e}")
                failed = True
    return 1 if failed else 0


def _silence(device: Device, printer: Printer) -> None:
    if not device.session_open:
        printer.line("  (no session is open)")
        return
    reprompt = device.last_reprompt
    ended = device.silence()
    if ended is None:
        printer.line("  (silence: Alexa waits about 8 seconds, then says the reprompt)")
        printer.block("Alexa:", readable(reprompt))
        printer.line("  [session open: Alexa is listening]")
    else:
        printer.line("  (silence again: Alexa gives up)")
        printer.exchange(ended)


def run(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """``knee-routine chat``: the options are added by ``skill.cli``."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="replace")
    if args.url:
        send, where = over_http(args.url), args.url
    else:
        db = Path(args.db) if args.db else DEFAULT_CHAT_DB
        send, where = in_process(db), f"in-process, store {db}"
    device = Device(send, args.locale, user_id=f"amzn1.ask.account.{args.user}",
                    skill_id=args.skill_id or LOCAL_SKILL_ID)
    printer = Printer(out, show_json=args.json)
    interactive = stdin.isatty()
    printer.line(f"Knee Routine chat ({args.locale}, {where}). "
                 f'Say "{device.nlu.launch_phrase}" to begin; /help for commands.')
    try:
        return converse(device, utterances(stdin, interactive, printer), printer)
    except KeyboardInterrupt:  # Ctrl-C at the prompt: the open session was ended on the way out
        return 130
    except BrokenPipeError:  # the reader left (``| head``): nothing more to show
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0
