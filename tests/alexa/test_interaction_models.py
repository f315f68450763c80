"""The interaction models agree with the code, with each other and with the content."""

from __future__ import annotations

import json

import pytest

from skill.alexa.intents import INTENT_EVENTS
from skill.alexa.interaction_model import PACKAGE_DIR, check, language_model, load_model
from skill.content.loader import LOCALES


def test_models_match_the_code_and_the_content(content):
    assert check(content) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_custom_intent_has_many_samples(locale):
    lm = language_model(load_model(locale))
    for intent in lm["intents"]:
        if not intent["name"].startswith("AMAZON."):
            assert len(intent["samples"]) >= 12, intent["name"]
    assert {i["name"] for i in lm["intents"]} == set(INTENT_EVENTS)


def test_invocation_names():
    assert language_model(load_model("en-US"))["invocationName"] == "knee routine"
    ja = language_model(load_model("ja-JP"))["invocationName"]
    words = ja.split()
    assert len(words) >= 2 and not any(w in ja for w in ("スキル", "アプリ", "開いて", "起動"))
    assert all("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in "".join(words))


@pytest.mark.parametrize("locale, phrases", [
    ("ja-JP", ["次", "次へ", "もう一度", "一時停止", "再開", "最初から", "準備OK"]),
    ("en-US", ["ready", "continue", "say that again", "go back"]),
])
def test_built_ins_are_extended_with_what_users_say(locale, phrases):
    samples = {s for i in language_model(load_model(locale))["intents"] for s in i["samples"]}
    assert set(phrases) <= samples


def test_manifest_has_both_locales_and_the_health_disclaimer():
    manifest = json.loads((PACKAGE_DIR / "skill.json").read_text(encoding="utf-8"))["manifest"]
    locales = manifest["publishingInformation"]["locales"]
    assert set(locales) == set(LOCALES)
    assert "not a substitute for medical advice" in locales["en-US"]["description"]
    assert "代わり" in locales["ja-JP"]["description"]
    for info in locales.values():
        assert len(info["examplePhrases"]) >= 1


def test_the_check_finds_a_sample_shared_by_two_intents(content, monkeypatch):
    model = load_model("en-US")
    intents = language_model(model)["intents"]
    intents[0]["samples"].append(intents[1]["samples"][0])
    original = load_model

    def patched(locale):
        return model if locale == "en-US" else original(locale)

    monkeypatch.setattr("skill.alexa.interaction_model.load_model", patched)
    problems = check(content)
    assert any("is in" in p for p in problems)
