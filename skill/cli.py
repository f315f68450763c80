"""The ``knee-routine`` command: ``serve`` runs the skill's web service, ``chat`` talks to it."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

from skill.hosting.settings import SKILL_ID_ENV, database_from_env, skill_id_from_env

log = logging.getLogger("knee_routine")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="knee-routine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the skill over HTTP (POST /alexa)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--dev", action="store_true",
                       help="local mode: no request verification, loopback only")
    serve.add_argument("--skill-id", default=None,
                       help=f"the skill's id (default: ${SKILL_ID_ENV})")
    serve.add_argument("--db", default=None, help="SQLite file (default: var/knee-routine.sqlite3)")
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--trusted-roots", default=None, metavar="PEM",
                       help="roots Alexa's signing certificate must chain to "
                            "(default: certifi's bundle)")
    serve.add_argument("--chain-dir", default=None, metavar="DIR",
                       help="pre-fetched certificate chains, each named as the last part of its "
                            "URL; nothing is fetched (air-gapped hosts)")
    _add_chat(commands)
    args = parser.parse_args(argv)
    if args.command == "chat":
        from skill.simulator.chat import run

        return run(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return _serve(args)
    except SetupError as e:
        print(f"knee-routine: {e}", file=sys.stderr)
        return 2


class SetupError(Exception):
    pass


def _serve(args: argparse.Namespace) -> int:
    if args.dev and not _is_loopback(args.host):
        raise SetupError(f"--dev serves without request verification, so only on loopback "
                         f"(127.0.0.1 or ::1), not {args.host}")
    skill_id = args.skill_id or skill_id_from_env()
    if not args.dev and not skill_id:
        raise SetupError(f"no skill id: pass --skill-id or set {SKILL_ID_ENV} to the id the "
                         f"Alexa developer console shows (amzn1.ask.skill...); requests for "
                         f"other skills are refused. For local use, add --dev")
    from skill.hosting.request_log import configure_json_logging
    from skill.hosting.server import serve
    from skill.web import create_app

    db = args.db or database_from_env()
    try:
        app = create_app({"DEV": args.dev, "DATABASE": db, "SKILL_ID": skill_id,
                          "TRUSTED_ROOTS": args.trusted_roots, "CHAIN_DIR": args.chain_dir})
    except (OSError, ValueError) as e:
        raise SetupError(str(e)) from None
    configure_json_logging()
    if args.dev:
        print(f"Knee Routine: local dev mode, request verification OFF, store {db}", flush=True)
    else:
        roots = args.trusted_roots or "certifi's bundle"
        chains = f"pre-fetched in {args.chain_dir}" if args.chain_dir else "fetched from Amazon"
        print(f"Knee Routine: verifying Alexa requests for {skill_id} (roots: {roots}; "
              f"chains: {chains}), store {db}", flush=True)
    print(f"POST Alexa requests to http://{args.host}:{args.port}/alexa", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _add_chat(commands: argparse._SubParsersAction) -> None:
    chat = commands.add_parser("chat", help="talk to the skill in text, as an Echo would")
    chat.add_argument("--locale", choices=("ja-JP", "en-US"), default="ja-JP")
    chat.add_argument("--url", default=None,
                      help="a running skill's POST /alexa address (default: in-process)")
    chat.add_argument("--db", default=None,
                      help="in-process SQLite file (default: var/chat.sqlite3)")
    chat.add_argument("--user", default="chat-user", help="the Alexa user id's last part")
    chat.add_argument("--skill-id", default=None, help="applicationId to send")
    chat.add_argument("--json", action="store_true", help="also print each response's JSON")
    chat.add_argument("--device", action="store_true",
                      help="keep time as an Echo: while Alexa speaks only \"Alexa, ...\" is "
                           "heard; it listens 8 s, reprompts, listens 8 s, then ends the session "
                           "(scripts: /wait N stays silent, /at N speaks N s into an answer)")


if __name__ == "__main__":
    sys.exit(main())
