"""AWS Lambda entry point: ``skill.lambda_function.handler``.

The skill is built once per container (on the first request) and reused while it is warm.
"""

from __future__ import annotations

import logging
from typing import Any

from skill.alexa.runtime import BadRequest, SkillRuntime
from skill.hosting.request_checks import check_request
from skill.hosting.settings import runtime_from_env

log = logging.getLogger(__name__)
_runtime: SkillRuntime | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _runtime
    if _runtime is None:
        _runtime = runtime_from_env()
    try:
        return _runtime.handle(check_request(event), context)
    except BadRequest as e:
        log.warning("rejected request: %s", e)
        raise
