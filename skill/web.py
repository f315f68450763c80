"""The Flask app: ``skill.web.create_app(config=None)``.

``POST /alexa`` takes an Alexa request envelope and returns the response envelope;
``GET /health`` answers 200. A request that is not a usable envelope gets HTTP 400 (or 413 when
too large) with a short JSON reason, never a 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.builder import BadRequest, SkillConfig, SkillRuntime
from skill.settings import database_from_env, skill_id_from_env

log = logging.getLogger(__name__)

# A verifier checks a request before the skill sees it: verifier(headers, raw_body) raises
# ``BadRequest`` with a short reason when the request must be refused.
Verifier = Callable[[Mapping[str, str], bytes], None]

DEFAULTS: dict[str, Any] = {
    "DATABASE": None,  # path of the SQLite file; None: $KNEE_ROUTINE_DB or var/knee-routine.sqlite3
    "SKILL_ID": None,  # None: $KNEE_ROUTINE_SKILL_ID; when set, other skills' requests are refused
    "DEV": False,  # local mode: no request verification
    "VERIFIER": None,  # request verification (required unless DEV)
    "PERSISTENCE": None,  # an ASK persistence adapter, instead of SQLite at DATABASE
    "CLOCK": None,  # a callable returning an aware datetime (tests)
    "MAX_CONTENT_LENGTH": 256 * 1024,  # Alexa requests are a few KB
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(config or {})
    app.json.ensure_ascii = False
    runtime = _runtime(app.config)
    verifier: Verifier | None = app.config["VERIFIER"]
    if verifier is None and not app.config["DEV"]:
        raise ValueError("a request verifier is required outside dev mode")
    app.extensions["knee_routine"] = runtime

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @app.post("/alexa")
    def alexa() -> Any:
        body = request.get_data(cache=False)
        try:
            if verifier is not None:
                verifier(request.headers, body)
            event = _parse(body)
            return jsonify(runtime.handle(event))
        except BadRequest as e:
            log.info("rejected request: %s", e)
            return jsonify(error=str(e)), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        return jsonify(error=e.name), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Any:  # the last line of defence: logged, never a crash
        log.exception("unexpected error")
        return jsonify(error="the skill could not read this request"), 400

    return app


def _runtime(config: Mapping[str, Any]) -> SkillRuntime:
    persistence = config["PERSISTENCE"]
    if persistence is None:
        from skill.persistence import SQLiteAdapter

        persistence = SQLiteAdapter(config["DATABASE"] or database_from_env())
    skill_config = SkillConfig(persistence=persistence,
                               skill_id=config["SKILL_ID"] or skill_id_from_env())
    if config["CLOCK"] is not None:
        skill_config.clock = config["CLOCK"]
    return SkillRuntime(skill_config)


def _parse(body: bytes) -> Any:
    if not body:
        raise BadRequest("empty body")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise BadRequest("body is not valid JSON") from None
