"""The day is the request's: its timestamp in the device's time zone, from the Alexa Settings API
(a loopback fake here), cached per device, with the locale's offset when the API fails or is slow.
"""

from __future__ import annotations

import time

import pytest

from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.storage.record import Deadline
from skill.storage.sqlite import SQLiteStore
from tests.support.envelopes import Session
from tests.support.settings_api import LATE_EVENING_UTC, from_device


@pytest.fixture
def skill(tmp_path, api):
    store = SQLiteStore(tmp_path / "day.sqlite3")
    runtime = SkillRuntime(SkillConfig(persistence=store))

    def send(device: str, stamp: str = LATE_EVENING_UTC):
        def one(event: dict) -> dict:
            return runtime.handle(from_device(event, api.url, device, stamp))
        return one

    yield send, store
    store.close()


def last_day(store: SQLiteStore, user: str) -> str:
    return store.read(f"amzn1.ask.account.{user}", Deadline(2)).data["profile"]["last_day"]


def finish(send, user: str, locale: str) -> Session:
    return Session(send, user=user, locale=locale).finish_routine()


@pytest.mark.parametrize(("zone", "day"), [("Asia/Tokyo", "2026-11-26"),
                                           ("Pacific/Honolulu", "2026-11-25")])
def test_the_day_is_the_devices_whatever_the_locale(skill, api, zone, day):
    send, store = skill
    api.zones["echo-1"] = zone
    finish(send("echo-1"), "zoned", "en-US")
    assert last_day(store, "zoned") == day
    paths = {path for path, _ in api.calls}
    assert paths == {"/v2/devices/echo-1/settings/System.timeZone"}, "asked once, then cached"
    assert {auth for _, auth in api.calls} == {"Bearer test-token"}


@pytest.mark.parametrize(("locale", "day"), [("ja-JP", "2026-11-26"), ("en-US", "2026-11-25")])
def test_when_the_api_fails_the_locale_gives_the_day(skill, api, locale, day):
    send, store = skill
    api.zones["echo-2"] = 500
    s = finish(send("echo-2"), "fallback", locale)
    assert "Sorry" not in s.text
    assert last_day(store, "fallback") == day
    assert len(api.calls) == 1, "a failure is remembered too"


def test_a_slow_api_does_not_hold_the_turn(skill, api):
    send, store = skill
    api.zones["echo-3"] = 3.0  # answers after 3 s
    s = Session(send("echo-3"), user="slow", locale="ja-JP")
    started = time.monotonic()
    s.launch()
    assert time.monotonic() - started < 2.0
    assert s.open and "Sorry" not in s.text


def test_the_day_moves_with_the_requests_not_the_server(skill, api):
    send, store = skill
    api.zones["echo-4"] = "Asia/Tokyo"
    for n, stamp in enumerate(["2026-11-20T22:00:00Z", "2026-11-21T22:00:00Z",
                               "2026-11-22T22:00:00Z"]):
        s = finish(send("echo-4", stamp), "regular", "ja-JP")
        assert "Sorry" not in s.text, n
    profile = store.read("amzn1.ask.account.regular", Deadline(2)).data["profile"]
    assert (profile["days_done"], profile["streak"], profile["last_day"]) == (3, 3, "2026-11-23")
