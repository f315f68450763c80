"""A daily reminder through the Alexa Reminders API (stdlib HTTP: nothing extra on Lambda), and
the voice consent that grants the permission it needs.

``POST {apiEndpoint}/v1/alerts/reminders`` with the request's ``apiAccessToken``. Times are
local to the device (no ``timeZoneId``: Alexa uses the device's) and carry no trailing ``Z``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
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


# -- voice consent: Alexa asks for the permission by voice ---------------------------------------
#
# Without the permission, the skill answers with ``Connections.SendRequest`` (``AskFor``); Alexa
# asks the user, then sends ``Connections.Response`` carrying the directive's token (here the
# reminder's time) and ACCEPTED, DENIED or NOT_ANSWERED. Where Alexa cannot ask by voice, the
# answer has a status code other than 200, and the skill falls back to the consent card.

CONSENT_REQUEST = "Connections.Response"
CONSENT_TASK = "AskFor"
# The machine's reminder result for each consent answer (None: call the API, which says "set"
# or why not; "no_permission": Alexa could not ask by voice, so the consent card).
CONSENT_RESULTS = {"accepted": None, "declined": "declined", "unavailable": "no_permission"}
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def consent_directive(time_hhmm: str | None) -> Any:
    """``Connections.SendRequest`` asking for the reminders permission; the token keeps the
    time the user asked for, so the answer can create the reminder."""
    from ask_sdk_model.interfaces.connections import SendRequestDirective

    payload = {"@type": "AskForPermissionsConsentRequest", "@version": "1",
               "permissionScope": PERMISSION}
    return SendRequestDirective(name=CONSENT_TASK, payload=payload, token=time_hhmm or "")


def consent_answer(request: Mapping[str, Any]) -> tuple[str, str | None]:
    """What a ``Connections.Response`` says: ("accepted" | "declined" | "unavailable", time).

    "unavailable" means Alexa could not ask by voice (the card is then the way); a token that is
    not a time the skill wrote is ignored."""
    token = request.get("token")
    time_hhmm = token if isinstance(token, str) and _TIME.fullmatch(token) else None
    status = request.get("status")
    code = str(status.get("code")) if isinstance(status, Mapping) else ""
    payload = request.get("payload")
    answer = payload.get("status") if isinstance(payload, Mapping) else None
    if code != "200" or answer not in ("ACCEPTED", "DENIED", "NOT_ANSWERED"):
        return "unavailable", time_hhmm
    return ("accepted" if answer == "ACCEPTED" else "declined"), time_hhmm


def asks_by_voice(handler_input: Any) -> bool:
    """Voice consent is asked from a user's request, never from a consent answer (no loop)."""
    request = getattr(handler_input.context, "request", None)
    return not (isinstance(request, Mapping) and request.get("type") == CONSENT_REQUEST)


def ask_by_voice(handler_input: Any, time_hhmm: str | None) -> Any:
    """The response that hands the turn to Alexa, which asks for the permission itself; the
    answer comes back as a ``Connections.Response``."""
    rb = handler_input.response_builder
    rb.add_directive(consent_directive(time_hhmm))
    rb.set_should_end_session(True)
    return rb.response
