"""AWS Lambda entry point: ``skill.lambda_function.handler``.

The skill is built once per container (on the first request, while the device's time zone is
asked for) and reused while it is warm.
Each request is logged once with the web service's request-log fields, which the runtime's
JSON log format (template.yaml: LoggingConfig) writes beside its own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from skill.alexa.envelope import text
from skill.alexa.runtime import SkillRuntime
from skill.alexa.timezone import TimeZones
from skill.errors import BadRequest
from skill.hosting.request_checks import check_request
from skill.hosting.settings import runtime_from_env, skill_id_from_env
from skill.hosting.turn_log import request_log, turn_fields

log = logging.getLogger(__name__)
_runtime: SkillRuntime | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _runtime
    if _runtime is None:
        _runtime = _build(event)
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


def _build(event: Any) -> SkillRuntime:
    """The skill, built on the first request while that request's device time zone is asked
    for (the API's round trip no longer follows the build): only for a request to this skill."""
    zones = TimeZones()
    skill_id = skill_id_from_env()
    if skill_id is None or text(event, "context", "System", "application",
                                "applicationId") == skill_id:
        system = ("context", "System")
        zones.prefetch(text(event, *system, "device", "deviceId"),
                       text(event, *system, "apiEndpoint"), text(event, *system, "apiAccessToken"))
    return runtime_from_env(time_zones=zones)
