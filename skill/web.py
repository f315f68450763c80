"""The Flask app: ``skill.web.create_app(config=None)``.

``POST /alexa`` takes an Alexa request envelope and returns the response envelope;
``GET /health`` answers 200 when the store can be written and read within a second, else 503.
A request that is not a usable envelope gets HTTP 400 (or 413 when too large) with a short JSON
reason, never a 5xx. In order: the verifier (outside dev mode), the JSON parse, the hostile-text
checks (``hosting.request_checks``), then the skill; the request log (``hosting.request_log``)
writes one line for each. The body is parsed once: a verifier that ``takes_parsed`` reads it
through the app's parse, and a parse error is still reported after the verifier's refusals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.errors import BadRequest
from skill.hosting.request_checks import check_request
from skill.hosting.request_log import install_request_log
from skill.hosting.settings import skill_id_from_env, store_from_env
from skill.storage.record import StoreError

log = logging.getLogger(__name__)

# A verifier checks a request before the skill sees it: verifier(headers, raw_body) raises
# ``BadRequest`` with a short reason when the request must be refused. One with a true
# ``takes_parsed`` is called as verifier(headers, raw_body, parsed), ``parsed()`` giving the
# app's parse of the body (None when it cannot be read).
Verifier = Callable[[Mapping[str, str], bytes], None]

DEFAULTS: dict[str, Any] = {
    "DATABASE": None,  # SQLite file; None: the environment's store (settings.store_from_env)
    "SKILL_ID": None,  # None: $KNEE_ROUTINE_SKILL_ID; when set, other skills' requests are refused
    "DEV": False,  # local mode: no request verification
    "VERIFIER": None,  # request verification; None outside DEV: hosting.verifier.AlexaVerifier
    "TRUSTED_ROOTS": None,  # PEM file of roots Alexa's certificate must chain to; None: certifi
    "CHAIN_DIR": None,  # pre-fetched certificate chains (air-gapped); None: fetch from Amazon
    "PERSISTENCE": None,  # a store (skill.storage.record.Store), instead of DATABASE
    "CLOCK": None,  # a callable returning an aware datetime (tests)
    "MAX_CONTENT_LENGTH": 256 * 1024,  # Alexa requests are a few KB
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(config or {})
    app.json.ensure_ascii = False
    runtime = _runtime(app.config)
    if not app.config["DEV"] and runtime.config.skill_id is None:
        raise ValueError("a skill id is required outside dev mode (SKILL_ID or "
                         "$KNEE_ROUTINE_SKILL_ID)")
    verifier: Verifier | None = app.config["VERIFIER"]
    if verifier is None and not app.config["DEV"]:
        verifier = _verifier(app.config, runtime.config.skill_id)
    app.extensions["knee_routine"] = runtime
    install_request_log(app)
    if app.config["DEV"]:  # the browser simulator: local use only, like DEV itself
        from skill.simulator.browser import simulator

        app.register_blueprint(simulator)

    @app.get("/health")
    def health() -> Any:
        try:
            runtime.store.probe()
        except StoreError as e:
            log.error("health: the store cannot be written and read: %s", str(e)[:200])
            return jsonify(status="unavailable", reason="store"), 503
        return jsonify(status="ok")

    takes_parsed = getattr(verifier, "takes_parsed", False)
    response_class = app.response_class

    @app.post("/alexa")
    def alexa() -> Any:
        body = request.get_data(cache=False)
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        parse = _Parse(body)
        try:
            if takes_parsed:  # the verifier reads the body through the one parse
                verifier(request.headers, body, parse)  # type: ignore[misc]
            elif verifier is not None:
                verifier(request.headers, body)
            ctx.event = event = check_request(parse.result(), body)
            ctx.reply = reply = runtime.handle(event)
            return response_class(_encode(reply), mimetype="application/json")
        except BadRequest as e:  # logged by the request log, with the reason
            ctx.rejected = str(e)
            return jsonify(error=str(e)), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        g.rejected = e.name
        return jsonify(error=e.name), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Any:  # the last line of defence: logged, never a crash
        log.exception("unexpected error")
        g.rejected = "unexpected error"
        return jsonify(error="the skill could not read this request"), 400

    return app


def _runtime(config: Mapping[str, Any]) -> SkillRuntime:
    store = config["PERSISTENCE"] or store_from_env(config["DATABASE"])
    skill_config = SkillConfig(persistence=store,
                               skill_id=config["SKILL_ID"] or skill_id_from_env())
    if config["CLOCK"] is not None:
        skill_config.clock = config["CLOCK"]
    return SkillRuntime(skill_config)


def _verifier(config: Mapping[str, Any], skill_id: str | None) -> Verifier:
    from skill.hosting.verifier import AlexaVerifier, ChainDirectory, load_roots

    roots = config["TRUSTED_ROOTS"]
    chains = config["CHAIN_DIR"]
    try:
        pem = Path(roots).read_bytes() if roots else None
    except OSError as e:
        raise ValueError(f"cannot read the trusted roots {roots}: {e.strerror}") from None
    return AlexaVerifier(
        trusted_roots=load_roots(pem) if pem is not None else None,
        fetch=ChainDirectory(chains) if chains else None,
        skill_id=skill_id,
        **({"clock": config["CLOCK"]} if config["CLOCK"] else {}),
    )


# The reply as JSON text: compact, not ASCII-escaped, keys in the order the skill built them.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Parse:
    """``_parse(body)`` once, on first call: the envelope, or None when the body cannot be
    read (``result()`` then raises the reason, after the verifier had its say)."""

    __slots__ = ("body", "event", "error", "done")

    def __init__(self, body: bytes) -> None:
        self.body, self.event, self.error, self.done = body, None, None, False

    def __call__(self) -> Any:
        if not self.done:
            self.done = True
            try:
                self.event = _parse(self.body)
            except BadRequest as e:
                self.error = e
        return self.event

    def result(self) -> Any:
        event = self()
        if self.error is not None:
            raise self.error
        return event


def _parse(body: bytes) -> Any:
    if not body:
        raise BadRequest("empty body")
    try:
        event = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise BadRequest("body is not valid JSON") from None
    # Deep nesting would exhaust the stack further on (the SDK deep-copies session attributes);
    # counting brackets first keeps the walk off the path of ordinary requests.
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _deeper_than(event, MAX_DEPTH):
        raise BadRequest("body is nested too deeply")
    return event


MAX_DEPTH = 64  # Alexa's envelopes, session attributes included, nest about 10 deep


def _deeper_than(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
