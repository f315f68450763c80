"""A cold Lambda container asks for the first request's device time zone while it builds the
skill: the day is still the device's, the Settings API (a loopback fake) is asked once, and only
for a request to this skill."""

from __future__ import annotations

import threading

import pytest

import skill.lambda_function as lambda_function
from skill.alexa.timezone import TimeZones, fetch_time_zone
from skill.errors import BadRequest
from skill.storage.record import Deadline
from skill.storage.sqlite import SQLiteStore
from tests.support.envelopes import APP_ID, Session, launch
from tests.support.settings_api import from_device


@pytest.fixture
def cold_lambda(tmp_path, monkeypatch, api):
    """The Lambda handler as a new container runs it (nothing built), for this skill's id."""
    db = tmp_path / "cold.sqlite3"
    monkeypatch.setenv("KNEE_ROUTINE_DB", str(db))
    monkeypatch.setenv("KNEE_ROUTINE_SKILL_ID", APP_ID)
    monkeypatch.delenv("KNEE_ROUTINE_TABLE", raising=False)
    monkeypatch.setattr(lambda_function, "_runtime", None)

    def on_device(device: str, app_id: str = APP_ID):
        def send(event: dict) -> dict:
            event["context"]["System"]["application"]["applicationId"] = app_id
            event["session"]["application"]["applicationId"] = app_id
            return lambda_function.handler(from_device(event, api.url, device), None)
        return send

    yield on_device, db
    runtime = lambda_function._runtime
    monkeypatch.setattr(lambda_function, "_runtime", None)
    if runtime is not None:
        runtime.store.close()


def last_day(db, user: str) -> str:
    store = SQLiteStore(db)
    try:
        return store.read(f"amzn1.ask.account.{user}", Deadline(2)).data["profile"]["last_day"]
    finally:
        store.close()


@pytest.mark.parametrize(("zone", "day"), [("Asia/Tokyo", "2026-11-26"),
                                           ("Pacific/Honolulu", "2026-11-25")])
def test_the_first_request_of_a_container_gets_the_devices_day(cold_lambda, api, zone, day):
    on_device, db = cold_lambda
    api.zones["echo-cold"] = zone
    Session(on_device("echo-cold"), user="cold", locale="en-US").finish_routine()
    assert last_day(db, "cold") == day
    assert [path for path, _ in api.calls] == ["/v2/devices/echo-cold/settings/System.timeZone"]


def test_a_request_for_another_skill_asks_the_api_nothing(cold_lambda, api):
    on_device, _ = cold_lambda
    api.zones["echo-other"] = "Asia/Tokyo"
    with pytest.raises(BadRequest):
        on_device("echo-other", app_id="amzn1.ask.skill.someone-else")(launch(user="other"))
    assert api.calls == []


def test_a_slow_api_on_the_first_request_gives_the_locales_day(cold_lambda, api):
    on_device, db = cold_lambda
    api.zones["echo-slow"] = 3.0  # answers after 3 s, past the lookup's time
    s = Session(on_device("echo-slow"), user="slow-cold", locale="en-US").finish_routine()
    assert "Sorry" not in s.text
    assert last_day(db, "slow-cold") == "2026-11-25"  # en-US's offset: still the 25th


def test_asked_in_the_background_then_answered_from_that_one_call(api):
    api.zones["echo-5"] = "Asia/Tokyo"
    zones = TimeZones()
    fallback = object()
    zones.prefetch("echo-5", api.url, "token-5")
    zones.prefetch("echo-5", api.url, "token-5")  # already being asked: not again
    answers: list[object] = []
    askers = [threading.Thread(target=lambda: answers.append(
        zones.zone("echo-5", api.url, "token-5", fallback))) for _ in range(4)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(5)
    assert [str(a) for a in answers] == ["Asia/Tokyo"] * 4
    assert api.calls == [("/v2/devices/echo-5/settings/System.timeZone", "Bearer token-5")]
    zones.prefetch("echo-5", api.url, "token-5")  # known now: nothing to ask
    assert len(api.calls) == 1


def test_what_cannot_be_asked_is_not_asked_in_the_background(api):
    zones = TimeZones(fetch=fetch_time_zone)
    for device, endpoint, token in [(None, api.url, "t"), ("d", None, "t"), ("d", api.url, None),
                                    ("d" * 300, api.url, "t")]:
        zones.prefetch(device, endpoint, token)
    zones.prefetch("d", "http://example.com", "t")  # plain http, not loopback: refused inside
    assert zones.zone("d", "http://example.com", "t", fallback=None) is None
    assert api.calls == []
