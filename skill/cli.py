"""The ``knee-routine`` command: ``serve`` runs the skill's web service."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

from skill.settings import SKILL_ID_ENV, database_from_env, skill_id_from_env

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
    args = parser.parse_args(argv)
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
    if not args.dev:
        raise SetupError("serving Alexa without request verification is not supported; "
                         "use --dev for local use")
    from waitress import serve

    from skill.web import create_app

    db = args.db or database_from_env()
    skill_id = args.skill_id or skill_id_from_env()
    app = create_app({"DEV": True, "DATABASE": db, "SKILL_ID": skill_id})
    print(f"Knee Routine: local dev mode, request verification OFF, store {db}", flush=True)
    print(f"POST Alexa requests to http://{args.host}:{args.port}/alexa", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="knee-routine")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
