"""``knee-routine chat``: talk to the skill in text, as an Echo would carry the conversation.

Typed text goes through the interaction model (``skill.simulator.nlu``) into a real request
envelope (``skill.simulator.device``); the skill answers in-process (SQLite store) or over HTTP
(``--url``, ``skill.simulator.senders``). What Alexa would say is printed readably
(``skill.simulator.terminal``): pauses as ``[10 s]``, then the reprompt, the card and whether the
session stays open. Without a terminal, a script is read from stdin, one utterance a line (``#``
comments; ``/silence``, ``/wait 12``, ``/at 3``, ``/end``, ``/quit``).

With ``--device`` the conversation keeps time as an Echo does (``skill.simulator.listening``):
while Alexa speaks only "Alexa, …" is heard, then it listens 8 s, reprompts, listens 8 s and ends
the session. At a terminal the clock is real. A script listens to Alexa to the end: each line is
said as soon as she stops speaking; ``/wait N`` first stays silent N seconds from then (so
``/wait 17`` hears the reprompt), and ``/at N`` says the next line N seconds after the start of
her answer (``/at 3`` then "Alexa, my knee hurts" interrupts a set 3 s in).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from skill.simulator.device import DEFAULT_USER, Device
from skill.simulator.listening import Echo, RealClock, ScriptClock
from skill.simulator.nlu import LOCAL_SKILL_ID
from skill.simulator.nlu_words import wake_phrase
from skill.simulator.senders import SkillError, SkillUnreachable, in_process, over_http
from skill.simulator.speech import readable
from skill.simulator.terminal import Printer

DEFAULT_CHAT_DB = Path("var") / "chat.sqlite3"
MAX_WAIT = 3600.0  # seconds one /wait or /at may skip

COMMANDS = {
    "/silence": "say nothing: Alexa reprompts once, then ends the session",
    "/wait N": "with --device: stay silent N seconds (in a script, once Alexa stops speaking)",
    "/at N": "with --device: say the next line N seconds after Alexa began her answer",
    "/end": "end the session (SessionEndedRequest, USER_INITIATED)",
    "/json": "show or hide the raw response JSON",
    "/help": "this list",
    "/quit": "leave (an open session is ended first)",
}


def utterances(stream: TextIO, interactive: bool, printer: Printer) -> Iterator[str]:
    """Lines the user says: prompted at a terminal, read from a script otherwise."""
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
            yield line


def timed_utterances(stream: TextIO, echo: Echo, printer: Printer) -> Iterator[str | None]:
    """Lines typed at a terminal, and None whenever the Echo has something to do by itself."""
    prompted = False
    while True:
        if not prompted:
            printer.out.write("you> ")
            printer.out.flush()
            prompted = True
        mark = echo.next_mark()
        timeout = None if mark is None else max(0.0, mark - echo.clock.now()) + 0.05
        ready, _, _ = select.select([stream], [], [], timeout)
        if not ready:  # what happens next is printed over the empty prompt
            printer.out.write("\r")
            prompted = False
            yield None
            continue
        line = stream.readline()
        if not line:
            printer.line()
            return
        prompted = False
        yield line.strip()


def converse(device: Device, lines: Iterable[str | None], printer: Printer,
             echo: Echo | None = None, show_input: bool = False) -> int:
    """Run a conversation; 0 when every turn was answered, 1 otherwise.

    ``echo`` keeps time as an Echo does; ``show_input`` prints each line as it is said (a script).
    """
    failed, timed = False, False  # timed: a /wait or /at said when the next line is said
    try:
        for text in lines:
            if text is None:  # time passed at the terminal
                _show(printer, echo.catch_up() if echo else [])
                continue
            command = text.strip().lower()
            if echo is not None and show_input and not command.startswith("/"):
                _show(printer, echo.catch_up() if timed else echo.wait_for_speech_end())
            if show_input:
                printer.line(f"you> {text}")
            if command in ("/quit", "/exit"):
                break
            if command == "/help":
                for name, what in COMMANDS.items():
                    printer.line(f"  {name:<9} {what}")
                continue
            if command == "/json":
                printer.show_json = not printer.show_json
                continue
            if command.split()[:1] in (["/wait"], ["/at"]):
                if echo is not None and show_input and not timed and command.startswith("/wait"):
                    _show(printer, echo.wait_for_speech_end())  # a script listened to the end
                timed = _wait(command, echo, printer) or timed
                continue
            timed = False
            try:
                _turn(device, echo, text, command, printer)
            except SkillError as e:
                printer.line(f"  error: {e}")
                failed = True
                device.close()
                if echo is not None:
                    echo.window = None
                if isinstance(e, SkillUnreachable):
                    break
    finally:
        failed = _leave(device, echo, printer) or failed
    return 1 if failed else 0


def _turn(device: Device, echo: Echo | None, text: str, command: str, printer: Printer) -> None:
    if command == "/silence":
        if not device.session_open:
            printer.line("  (no session is open)")
        elif echo is not None:
            _show(printer, echo.stay_silent())
        else:
            _silence(device, printer)
    elif command == "/end":
        if device.session_open:
            printer.exchange(device.end("USER_INITIATED"))
        else:
            printer.line("  (no session is open)")
        if echo is not None:
            echo.window = None
    elif echo is not None:
        _show(printer, echo.say(text))
    else:
        for exchange in device.hear(text):
            printer.exchange(exchange)


def _wait(command: str, echo: Echo | None, printer: Printer) -> bool:
    """``/wait N`` (N seconds pass) or ``/at N`` (to N seconds into Alexa's answer); True when
    the time was set."""
    name, *value = command.split()
    try:
        seconds = float(value[0])
    except (IndexError, ValueError):
        printer.line(f"  (say how long: {name} 12)")
        return False
    if not 0 <= seconds <= MAX_WAIT:
        printer.line(f"  ({name} takes 0 to {MAX_WAIT:.0f} seconds)")
        return False
    if echo is None:
        printer.line("  (time only matters in device mode: knee-routine chat --device)")
        return False
    if name == "/wait":
        _show(printer, echo.wait(seconds))
        return True
    if echo.window is None:
        printer.line("  (Alexa is not in the middle of an answer: nothing to count from)")
        return False
    ahead = echo.window.start + seconds - echo.clock.now()
    if ahead < 0:
        since = f"{_since(echo):.1f}".removesuffix(".0")
        printer.line(f"  (that moment has passed: it is {since} s into the answer)")
        return False
    _show(printer, echo.wait(ahead))
    return True


def _since(echo: Echo) -> float:
    return echo.clock.now() - echo.window.start if echo.window else 0.0


def _show(printer: Printer, happenings: Iterable) -> None:
    for happening in happenings:
        printer.happening(happening)


def _leave(device: Device, echo: Echo | None, printer: Printer) -> bool:
    """End what is open as the user leaves; True when that failed."""
    try:
        if echo is not None and device.session_open and echo.window is not None:
            printer.line("  (you walked away)")
            while device.session_open and echo.window is not None:
                _show(printer, echo.stay_silent())
        if device.session_open:
            ended = device.end("USER_INITIATED")
            ended.notes.append("you left")
            printer.exchange(ended)
    except SkillError as e:
        printer.line(f"  error: {e}")
        return True
    return False


def _silence(device: Device, printer: Printer) -> None:
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
    device = Device(send, args.locale, user_id=f"amzn1.ask.account.{args.user or DEFAULT_USER}",
                    skill_id=args.skill_id or LOCAL_SKILL_ID)
    interactive = stdin.isatty()
    echo = _echo(device, args.locale, interactive) if getattr(args, "device", False) else None
    printer = Printer(out, show_json=args.json, device=echo is not None)
    launch = device.nlu.launch_phrase
    if echo is None:
        printer.line(f"Knee Routine chat ({args.locale}, {where}). "
                     f'Say "{launch}" to begin; /help for commands.')
        lines: Iterable[str | None] = utterances(stdin, interactive, printer)
    else:
        clock = "real time" if interactive else "script time: /wait N, /at N"
        printer.line(f"Knee Routine chat ({args.locale}, {where}), device mode ({clock}). "
                     f'Say "{wake_phrase(args.locale)}{launch}" to begin; /help for commands.')
        lines = timed_utterances(stdin, echo, printer) if interactive else utterances(
            stdin, False, printer)
    try:
        return converse(device, lines, printer, echo, show_input=not interactive)
    except KeyboardInterrupt:  # Ctrl-C at the prompt: the open session was ended on the way out
        return 130
    except BrokenPipeError:  # the reader left (``| head``): nothing more to show
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0


def _echo(device: Device, locale: str, interactive: bool) -> Echo:
    from skill.content.loader import load_content

    rate = load_content().for_locale(locale).rate
    return Echo(device, rate, RealClock() if interactive else ScriptClock())
