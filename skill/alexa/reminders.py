"""A daily reminder through the Alexa Reminders API (stdlib HTTP: nothing extra on Lambda).

``POST {apiEndpoint}/v1/alerts/reminders`` with the request's ``apiAccessToken``. Times are
local to the device (no ``timeZoneId``: Alexa uses the device's) and carry no trailing ``Z``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

PERMISSION = "alexa::alerts:reminders:skill:readwrite"
TIMEOUT_SECONDS = 3.0  # Alexa waits about 8 s for the whole answer


def daily_reminder_body(time_hhmm: str, now_local: dt.datetime, locale: str,
                        text: str) -> dict[str, Any]:
    """The request body for a reminder every day at ``time_hhmm``, from the next occurrence."""
    hour, minute = (int(x) for x in time_hhmm.split(":"))
    first = now_local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if first <= now_local:
        first += dt.timedelta(days=1)
    start = first.strftime("%Y-%m-%dT%H:%M:%S.000")
    rule = f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0;INTERVAL=1;"
    return {
        "requestTime": now_local.strftime("%Y-%m-%dT%H:%M:%S.000"),
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": start,
            "recurrence": {"startDateTime": start, "recurrenceRules": [rule]},
        },
        "alertInfo": {"spokenInfo": {"content": [{"locale": locale, "text": text}]}},
        "pushNotification": {"status": "ENABLED"},
    }


def create(api_endpoint: str, token: str, body: dict[str, Any]) -> str:
    """Create the reminder: "set", "no_permission" (401/403) or "failed"."""
    import urllib.error  # only here: urllib.request costs milliseconds at cold start
    import urllib.request

    if not api_endpoint.startswith("https://") and not _is_local(api_endpoint):
        log.warning("reminders: refusing a non-https api endpoint")
        return "failed"
    request = urllib.request.Request(
        api_endpoint.rstrip("/") + "/v1/alerts/reminders",
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return "set" if 200 <= response.status < 300 else "failed"
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            return "no_permission"
        log.warning("reminders: HTTP %s", e.code)
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        log.warning("reminders: %s", type(e).__name__)
    return "failed"


def _is_local(url: str) -> bool:
    """Loopback over http is allowed, for the tests' stand-in of the Alexa API."""
    return url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))
