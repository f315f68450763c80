"""Voice consent for reminders: Alexa asks for the permission by voice, the skill acts on the
answer; the card stays where Alexa cannot ask. Against the loopback Reminders API."""

from __future__ import annotations

import pytest

from skill.content.loader import LOCALES
from tests.alexa.test_adapting import reminder_session
from tests.support.envelopes import envelope

PERMISSION = "alexa::alerts:reminders:skill:readwrite"




def say(content, locale, key, **params):
    return content.for_locale(locale).prompt(key).format(**params)


def consent_answer(session, status: str | None, token: str, code: str = "200") -> dict:
    """Alexa's Connections.Response after it asked for the permission, in the same session."""
    request = {"type": "Connections.Response", "name": "AskFor", "token": token,
               "status": {"code": code, "message": "OK" if code == "200" else "error"}}
    if status is not None:
        request["payload"] = {"permissionScope": PERMISSION, "status": status}
    return session._go(envelope(request, **session._kw()))


def ask_for_reminder(send, url, api, locale="en-US", time="07:30"):
    api.status = 401  # no permission yet
    s = reminder_session(send, url, locale)
    s.launch()
    s.say("ReminderIntent", {"time": {"name": "time", "value": time}})
    return s


def test_without_permission_alexa_is_asked_to_get_consent_by_voice(send, alexa_api):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api)
    response = s.last["response"]
    assert response["directives"] == [{
        "type": "Connections.SendRequest", "name": "AskFor",
        "payload": {"@type": "AskForPermissionsConsentRequest", "@version": "1",
                    "permissionScope": PERMISSION},
        "token": "07:30"}]
    assert response["shouldEndSession"] is True
    assert "card" not in response and "reprompt" not in response
    assert len(api.calls) == 1  # the one try that found no permission


@pytest.mark.parametrize("locale, spoken", [("en-US", "7:30 a.m."), ("ja-JP", "午前7時30分")])
def test_accepted_creates_the_reminder_asked_for(send, alexa_api, content, locale, spoken):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api, locale)
    api.status = 201  # the user said yes to Alexa
    consent_answer(s, "ACCEPTED", s.last["response"]["directives"][0]["token"])
    assert spoken in s.text and s.open
    assert s.last["response"]["reprompt"]["outputSpeech"]["ssml"]
    created = api.calls[-1]["body"]
    assert created["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=7;BYMINUTE=30;BYSECOND=0;INTERVAL=1;"]
    assert len(api.calls) == 2


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", ["DENIED", "NOT_ANSWERED"])
def test_declined_or_unanswered_gets_a_short_line_and_no_reminder(send, alexa_api, content,
                                                                   locale, status):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api, locale)
    consent_answer(s, status, "07:30")
    assert say(content, locale, "reminder_declined") in s.text and s.open
    assert "card" not in s.last["response"] and "directives" not in s.last["response"]
    assert len(api.calls) == 1, "no reminder was created"


def test_where_alexa_cannot_ask_by_voice_the_card_is_sent(send, alexa_api, content):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api)
    consent_answer(s, None, "07:30", code="400")
    assert s.last["response"]["card"] == {"type": "AskForPermissionsConsent",
                                          "permissions": [PERMISSION]}
    assert say(content, "en-US", "reminder_permission") in s.text and s.open
    assert "directives" not in s.last["response"], "never asks by voice again"


def test_accepted_but_still_refused_falls_back_to_the_card_not_a_loop(send, alexa_api):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api)
    consent_answer(s, "ACCEPTED", "07:30")  # the API still answers 401
    assert s.last["response"]["card"]["type"] == "AskForPermissionsConsent"
    assert "directives" not in s.last["response"] and s.open


def test_a_consent_answer_with_a_token_that_is_not_a_time_asks_for_the_time(send, alexa_api,
                                                                             content):
    url, api = alexa_api
    s = ask_for_reminder(send, url, api)
    api.status = 201
    consent_answer(s, "ACCEPTED", "<script>")
    assert say(content, "en-US", "reminder_need_time") in s.text and s.open
    assert len(api.calls) == 1
