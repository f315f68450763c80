"""AWS Lambda entry point: ``skill.lambda_function.handler``.

The skill is built once per container (on the first request) and reused while it is warm.
Each request is logged once with the web service's request-log fields, which the runtime's
JSON log format (template.yaml: LoggingConfig) writes beside its own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from skill.alexa.runtime import SkillRuntime
from skill.errors import BadRequest
from skill.hosting.request_checks import check_request
from skill.hosting.settings import runtime_from_env
from skill.hosting.turn_log import request_log, turn_fields

log = logging.getLogger(__name__)
_runtime: SkillRuntime | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _runtime
    if _runtime is None:
        _runtime = runtime_from_env()
    started = time.perf_counter()
    try:
        reply = _runtime.handle(check_request(event), context)
    except BadRequest as e:
        log.warning("rejected request: %s", e)
        raise
    if request_log.isEnabledFor(logging.INFO):  # on Lambda: ApplicationLogLevel INFO
        fields = turn_fields(event, reply)
        fields["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        request_log.info("request", extra=fields)
    return reply
