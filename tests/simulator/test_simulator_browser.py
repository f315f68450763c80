"""The browser simulator at /simulator: dev mode only, and driven in headless Chromium as a person
uses it (Debian's chromium, driven by Playwright; no browser download).

Screenshots go to a temporary directory, or to $SIMULATOR_SCREENSHOTS when set, to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from skill.content.loader import load_content
from skill.simulator.speech import spoken_seconds
from skill.web import create_app
from tests.support.skill_servers import http_skill

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 30_000


# -- the JSON API, without a browser ---------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    return create_app({"DEV": True, "DATABASE": str(tmp_path / "sim.sqlite3")}).test_client()


def fetch(client, path: str) -> tuple[int, bytes]:
    with client.get(path) as response:  # closes the file a static response holds
        return response.status_code, response.get_data()


def test_the_simulator_is_served_in_dev_mode_only(tmp_path, client):
    status, page = fetch(client, "/simulator")
    assert status == 200 and b'src="/simulator/static/simulator.js"' in page
    for asset in ("simulator.js", "page.js", "labels.js", "player.js", "log.js", "simulator.css"):
        assert fetch(client, f"/simulator/static/{asset}")[0] == 200
    public = create_app({"DEV": False, "SKILL_ID": "amzn1.ask.skill.x",
                         "VERIFIER": lambda headers, body: None,
                         "DATABASE": str(tmp_path / "public.sqlite3")}).test_client()
    assert fetch(public, "/simulator")[0] == 404
    assert fetch(public, "/simulator/static/simulator.js")[0] == 404
    assert public.post("/simulator/api/say", json={}).status_code == 404


@pytest.mark.parametrize("body, error", [
    (None, "send a JSON object"),
    ({"locale": "fr-FR", "text": "bonjour"}, "locale must be one of ja-JP, en-US"),
    ({"locale": "en-US"}, "text is missing"),
    ({"locale": "en-US", "text": "   "}, "text is missing"),
    ({"locale": "en-US", "text": "?!"}, "nothing to say"),
    ({"locale": "en-US", "text": "x" * 501}, "longer than 500"),
    ({"locale": "en-US", "text": "next", "session": "s1"}, "session must be an object"),
    ({"locale": "en-US", "text": "next", "session": {"id": "<script>"}}, "session.id"),
    ({"locale": "en-US", "text": "next", "session": {"id": "s1", "attributes": []}},
     "session.attributes"),
    ({"locale": "en-US", "text": "next", "user": "../../etc"}, "user must be"),
    ('{"locale": "en-US", "text": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
])
def test_bad_requests_get_a_clear_400(client, body, error):
    if body is None:
        response = client.post("/simulator/api/say", data="not json")
    elif isinstance(body, str):
        response = client.post("/simulator/api/say", data=body, content_type="application/json")
    else:
        response = client.post("/simulator/api/say", json=body)
    assert response.status_code == 400
    assert error in response.get_json()["error"]


def test_bad_session_attributes_do_not_break_the_skill(client):
    session = {"id": "amzn1.echo-api.session.x", "attributes": {"state": {"phase": "nonsense"}}}
    response = client.post("/simulator/api/say",
                           json={"locale": "en-US", "text": "next", "session": session})
    assert response.status_code == 200
    assert response.get_json()["exchanges"][0]["reply"]["speechText"]


def test_a_turn_through_the_api(client):
    opened = client.post("/simulator/api/say", json={"locale": "en-US", "user": "api-user",
                                                     "text": "open knee routine", "session": None})
    data = opened.get_json()
    assert data["exchanges"][0]["heard"]["request"] == "LaunchRequest"
    assert data["session"]["id"] and data["session"]["attributes"]
    asked = client.post("/simulator/api/say", json={"locale": "en-US", "user": "api-user",
                                                    "text": "Question about swelling or heat?",
                                                    "session": data["session"]}).get_json()
    (exchange,) = asked["exchanges"]
    assert exchange["request"]["session"]["sessionId"] == data["session"]["id"]
    assert exchange["heard"]["slots"]["topic"]["resolutions"]["resolutionsPerAuthority"][0][
        "values"][0]["value"]["id"] == "swelling_heat"
    answer = load_content().for_locale("en-US").faq["swelling_heat"].answer
    assert answer in exchange["reply"]["speechText"].replace("\n", " ")
    ended = client.post("/simulator/api/end", json={"locale": "en-US", "user": "api-user",
                                                    "session": asked["session"]}).get_json()
    assert ended["session"] is None
    assert ended["exchanges"][0]["requestType"] == "SessionEndedRequest"


def test_like_an_echo_through_the_api(client):
    def say(text, session=None, speaking=False):
        return client.post("/simulator/api/say", json={
            "locale": "en-US", "user": "echo-user", "text": text, "session": session,
            "device": True, "speaking": speaking}).get_json()

    model = client.get("/simulator/api/model?locale=en-US").get_json()
    assert model["wakePhrase"] == "Alexa, " and model["listenSeconds"] == 8
    assert say("open knee routine") == {"exchanges": [], "notHeard": "idle", "fallback": False,
                                        "session": None}
    assert say("Alexa, next")["notHeard"] == "unnamed"
    opened = say("Alexa, open knee routine")
    reply = opened["exchanges"][0]["reply"]
    ssml = reply["envelope"]["response"]["outputSpeech"]["ssml"]
    rate = load_content().for_locale("en-US").rate
    assert reply["speechSeconds"] == pytest.approx(spoken_seconds(ssml, rate), abs=0.01)
    assert reply["speechSeconds"] > 5 and reply["repromptSeconds"] > 1
    session = opened["session"]
    ignored = say("yes", session, speaking=True)
    assert ignored["notHeard"] == "speaking" and ignored["session"] == session
    assert say("Alexa", session, speaking=True)["wakeOnly"] is True
    heard = say("Alexa, yes", session, speaking=True)
    assert heard["exchanges"][0]["heard"]["intent"] == "AMAZON.YesIntent"
    assert say("help", heard["session"])["exchanges"][0]["heard"]["intent"] == "AMAZON.HelpIntent"


# -- in a real browser -----------------------------------------------------------------------------


def unavailable(reason: str) -> None:
    """Skip the browser tests on a developer machine; in CI (CI=1) they must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser test (scripts/ensure_chromium.sh "
                    "installs Debian's chromium)", pytrace=False)
    pytest.skip(f"{reason} (run scripts/ensure_chromium.sh)")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def simulator(tmp_path):
    with http_skill(tmp_path / "browser.sqlite3") as (alexa_url, _send):
        yield alexa_url.removesuffix("/alexa") + "/simulator"


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    wanted = os.environ.get("SIMULATOR_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Page:
    """The simulator page, as a person uses it."""

    def __init__(self, page, url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        page.wait_for_selector(".chip")

    def say(self, text: str) -> None:
        before = self.page.locator(".turn.user").count()
        self.page.fill("#say", text)
        self.page.press("#say", "Enter")
        self.page.wait_for_function(
            f"document.querySelectorAll('.turn.user').length > {before} && "
            "!document.querySelector('#send').disabled")

    def heard(self) -> str:
        return self.page.locator(".turn.user .heard").last.inner_text()

    def alexa(self):
        return self.page.locator(".turn.alexa").last

    def speech(self) -> str:
        return re.sub(r"\s+", " ", self.alexa().locator(".speech").inner_text())

    def session(self) -> str:
        return self.page.get_attribute("body", "data-session")

    def fits_the_screen(self) -> bool:
        return self.page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth")


def test_a_japanese_conversation_on_a_phone(browser, simulator, shots):
    lc = load_content().for_locale("ja-JP")
    context = browser.new_context(viewport=PHONE, locale="ja-JP")
    sim = Page(context.new_page(), f"{simulator}?locale=ja-JP")
    page = sim.page
    assert page.locator(".chip").first.inner_text() == "ひざトレーニングを開いて"
    assert "ひざトレーニングを開いて" in page.inner_text("#status")
    assert page.inner_text("#send") == "話す" and sim.session() == "none"
    page.screenshot(path=str(shots / "ja-1-start.png"))

    sim.say("ひざ トレーニングを開いて")
    assert "LaunchRequest" in sim.heard() and sim.session() == "open"
    assert lc.prompts["welcome_first"][0] in sim.speech()
    assert sim.alexa().locator(".reprompt").count() == 1

    sim.say("タオル")
    assert "EquipmentIntent" in sim.heard() and "ER_SUCCESS_MATCH → towel" in sim.heard()
    assert lc.steps[0].title in sim.alexa().locator(".card h2").inner_text()

    sim.say("準備ＯＫ")  # a timed set: pauses shown, and counted down while it plays
    assert "AMAZON.NextIntent" in sim.heard()
    pauses = sim.alexa().locator(".pause")
    assert pauses.count() >= 3 and re.fullmatch(r"\d+(\.\d)? 秒", pauses.first.inner_text())
    page.wait_for_selector("#countdown:not([hidden])")
    assert page.locator(".pause.active").count() == 1
    left = int(page.inner_text("#countdown-value"))
    assert 1 <= left <= 10
    page.screenshot(path=str(shots / "ja-2-countdown.png"))
    page.click("#stop-playing")
    page.wait_for_selector("#countdown", state="hidden")
    assert page.get_attribute("body", "data-playing") == "false"

    sim.say("膝が痛い！")
    assert "PainIntent" in sim.heard() and lc.prompts["pain_stop"][0] in sim.speech()
    sim.say("ほげほげ")
    assert "AMAZON.FallbackIntent" in sim.heard()
    sim.say("ストップ")
    assert "AMAZON.StopIntent" in sim.heard() and sim.session() == "none"
    assert "セッション終了" in sim.alexa().locator(".session-state").inner_text()
    assert sim.fits_the_screen()
    page.screenshot(path=str(shots / "ja-3-stopped.png"))
    assert sim.errors == []
    context.close()


def test_an_english_one_shot_question_then_silence(browser, simulator, shots):
    lc = load_content().for_locale("en-US")
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    sim = Page(context.new_page(), f"{simulator}?locale=en-US")
    page = sim.page
    page.uncheck("#aloud")  # read only: nothing plays

    sim.say("Alexa, ask knee routine what if I don't have a ball?")
    heard = sim.heard()
    assert "FaqNoBallIntent" in heard and "one-shot" in heard  # the topic's own intent
    assert lc.faq["no_ball"].answer in sim.speech()
    assert page.get_attribute("body", "data-playing") == "false"
    assert sim.session() == "open"

    page.click("#silence")  # Alexa reprompts once...
    page.wait_for_function("document.querySelectorAll('.turn.alexa').length >= 2")
    reprompt = sim.alexa().inner_text()
    assert "Reprompt" in reprompt and sim.session() == "open"
    page.click("#silence")  # ...then closes the session
    page.wait_for_selector("body[data-session='none']")
    assert "SessionEndedRequest (EXCEEDED_MAX_REPROMPTS)" in page.locator(".note").last.inner_text()
    page.screenshot(path=str(shots / "en-1-silence.png"))

    page.select_option("#locale", "ja-JP")  # the page follows the language
    page.wait_for_function("document.querySelector('.chip').textContent.includes('ひざ')")
    assert page.inner_text("#send") == "話す"
    assert sim.fits_the_screen()
    assert sim.errors == []
    context.close()


def run_until(page, condition: str, seconds: int = 180) -> int:
    """Move the page's (installed) clock a second at a time until ``condition`` holds."""
    for waited in range(seconds + 1):
        if page.evaluate(condition):
            return waited
        page.clock.run_for(1000)
    raise AssertionError(f"not within {seconds} s: {condition}")


def mic(page) -> str:
    return page.get_attribute("body", "data-mic")


@pytest.mark.parametrize("locale, words", [
    ("en-US", {"open": "Alexa, open knee routine", "start": "start", "wake": "Alexa, ",
               "pain": "Alexa, my knee hurts", "notHeard": "Not heard", "listening": "Listening"}),
    ("ja-JP", {"open": "アレクサ、ひざトレーニングを開いて", "start": "始めて",
               "wake": "アレクサ、", "pain": "アレクサ、膝が痛い",
               "notHeard": "届きませんでした", "listening": "聞いています"}),
])
def test_like_an_echo_the_page_keeps_the_listening_window(browser, simulator, shots, locale,
                                                          words):
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.clock.install()  # the page's timers run when the test says so
    sim = Page(page, f"{simulator}?locale={locale}&device=1")
    page.uncheck("#aloud")  # read silently, in the time Alexa takes to say it
    assert page.is_checked("#device")
    assert page.locator(".chip").first.inner_text() == words["open"]

    sim.say(words["start"])  # no session, no wake word: the Echo is idle
    assert words["notHeard"] in page.locator(".note").last.inner_text()
    assert sim.session() == "none"

    sim.say(words["open"])
    assert "LaunchRequest" in sim.heard() and mic(page) == "speaking"
    assert words["wake"].strip("、, ") in page.inner_text("#status")
    sim.say(words["start"])  # said while Alexa speaks, without the wake word
    assert page.locator(".turn.user.not-heard").count() == 2
    assert words["notHeard"] in page.locator(".note").last.inner_text()
    assert page.locator(".turn.alexa").count() == 1  # nothing was sent

    spoke = run_until(page, "document.body.dataset.mic === 'listening'")
    assert spoke >= 5  # the welcome takes a while to say
    assert page.get_attribute("#countdown", "data-kind") == "listening"
    assert page.inner_text("#countdown-label") == words["listening"]
    assert 7 <= int(page.inner_text("#countdown-value")) <= 8
    page.screenshot(path=str(shots / f"{locale}-device-listening.png"))
    listened = run_until(page, "document.body.dataset.mic !== 'listening'")
    assert 7 <= listened <= 9 and mic(page) == "reprompting"
    assert "Reprompt" in sim.alexa().inner_text() or "再プロンプト" in sim.alexa().inner_text()
    run_until(page, "document.body.dataset.mic === 'listening-again'")
    closed = run_until(page, "document.getElementById('countdown').hidden")  # the window shuts
    assert 7 <= closed <= 9
    run_until(page, "document.body.dataset.session === 'none'")  # the page tells the skill
    notes = page.locator(".note").all_inner_texts()
    assert "SessionEndedRequest (EXCEEDED_MAX_REPROMPTS)" in notes[-1]

    sim.say(words["open"])  # again: answer in the window, then interrupt a set for pain
    run_until(page, "document.body.dataset.mic === 'listening'")
    sim.say(words["start"])
    assert "StartRoutineIntent" in sim.heard() and mic(page) == "speaking"
    sim.say(words["pain"])  # the wake word interrupts
    assert "PainIntent" in sim.heard() and mic(page) == "speaking"
    assert sim.fits_the_screen()
    assert sim.errors == []
    context.close()
