"""The interaction models: built from content alone, in step with the code, within limits."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from skill.alexa import model_limits
from skill.alexa.intents import INTENT_EVENTS, faq_intent_name, faq_topic_of
from skill.alexa.interaction_model import (
    PACKAGE_DIR,
    check,
    language_model,
    load_model,
    render,
    sync,
)
from skill.alexa.model_build import ModelSourceError, build
from skill.alexa.model_patterns import PatternError, expand
from skill.content.loader import CONTENT_DIR, LOCALES, load_from


def test_models_match_the_code_and_the_content(content):
    assert check(content) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_model_is_what_the_content_builds(content, locale):
    assert render(build(content, locale).model) == render(load_model(locale))


def test_sync_is_idempotent_and_prints_a_count_per_intent(content):
    lines: list[str] = []
    assert sync(content, lines.append) == []  # the committed models are already in sync
    assert any(re.fullmatch(r"ja-JP PainIntent: \d+", line) for line in lines)
    assert any(re.fullmatch(r"en-US FaqEveryDayIntent: \d+", line) for line in lines)
    assert sync(content, lines.append) == []


def test_models_build_from_a_copy_of_the_content_alone(tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    content = load_from(copy)
    for locale in LOCALES:
        assert render(build(content, locale, copy).model) == render(load_model(locale))
    # an edit to a pattern file changes the model, and nothing else is needed
    intents = copy / "ja-JP" / "intents.yaml"
    intents.write_text(intents.read_text(encoding="utf-8").replace(
        "  PainIntent:\n", "  PainIntent:\n    - 膝がきしむ\n"), encoding="utf-8")
    model = build(content, "ja-JP", copy).model
    pain = next(i for i in language_model(model)["intents"] if i["name"] == "PainIntent")
    assert "膝がきしむ" in pain["samples"]


def test_a_sample_two_intents_share_is_refused(tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    intents = copy / "en-US" / "intents.yaml"
    intents.write_text(intents.read_text(encoding="utf-8").replace(
        "  SkipStepIntent:\n", "  SkipStepIntent:\n    - (it hurts|skip it now)\n"),
        encoding="utf-8")
    with pytest.raises(ModelSourceError, match="'it hurts' is in PainIntent and SkipStepIntent"):
        build(load_from(copy), "en-US", copy)


@pytest.mark.parametrize("locale", LOCALES)
def test_models_are_within_amazons_limits(locale):
    model = load_model(locale)
    assert model_limits.problems(model, locale) == []
    lm = language_model(model)
    assert len(lm["intents"]) <= model_limits.MAX_INTENTS
    for intent in lm["intents"]:
        assert len(intent["samples"]) <= model_limits.MAX_SAMPLES_PER_INTENT
        assert len(intent["samples"]) == len(set(intent["samples"]))


@pytest.mark.parametrize("sample, locale, bad", [
    ("膝が痛い", "ja-JP", False),
    ("準備OK", "ja-JP", False),
    ("ステップ{step}に進んで", "ja-JP", False),
    ("膝が痛い。", "ja-JP", True),
    ("3番目", "ja-JP", True),
    ("step 3", "en-US", True),
    ("what's next", "en-US", False),
    ("is it ok?", "en-US", True),
    ("x" * 201, "en-US", True),
])
def test_the_limit_check_knows_the_sample_rules(sample, locale, bad):
    assert (model_limits.sample_problem(sample, locale) is not None) is bad


@pytest.mark.parametrize("locale", LOCALES)
def test_every_custom_intent_has_many_samples(content, locale):
    lm = language_model(load_model(locale))
    for intent in lm["intents"]:
        if not intent["name"].startswith("AMAZON."):
            assert len(intent["samples"]) >= 12, intent["name"]
    topics = {faq_intent_name(t) for t in content.for_locale(locale).faq}
    assert {i["name"] for i in lm["intents"]} == set(INTENT_EVENTS) | topics


@pytest.mark.parametrize("locale", LOCALES)
def test_each_faq_topic_has_its_own_intent_with_many_phrasings(content, locale):
    intents = {i["name"]: i for i in language_model(load_model(locale))["intents"]}
    for topic in content.for_locale(locale).faq.values():
        intent = intents[faq_intent_name(topic.id)]
        assert faq_topic_of(intent["name"]) == topic.id
        assert len(intent["samples"]) >= 50, topic.id
        assert "slots" not in intent


@pytest.mark.parametrize("locale", LOCALES)
def test_no_slot_only_sample_over_whole_questions(locale):
    for intent in language_model(load_model(locale))["intents"]:
        slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for sample in intent["samples"]:
            m = re.fullmatch(r"\{(\w+)\}", sample.strip())
            assert not (m and slots.get(m.group(1)) == "FAQ_TOPIC"), (intent["name"], sample)


# Carriers that would turn "I have pain in my knee" / 「膝に痛みがあります」 into another intent.
_SWALLOWING = {
    "en-US": re.compile(r"^(i have|i've got|i got|i feel|there's|i'm having) \{\w+\}"),
    "ja-JP": re.compile(r"\{\w+\}(が|)(あります|ある|あるよ|します|する|出た)$"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_no_carrier_can_swallow_a_pain_phrase(locale):
    for intent in language_model(load_model(locale))["intents"]:
        for sample in intent["samples"]:
            assert not _SWALLOWING[locale].search(sample), (intent["name"], sample)


def test_invocation_names():
    assert language_model(load_model("en-US"))["invocationName"] == "knee routine"
    ja = language_model(load_model("ja-JP"))["invocationName"]
    words = ja.split()
    assert len(words) >= 2 and not any(w in ja for w in ("スキル", "アプリ", "開いて", "起動"))
    assert all("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in "".join(words))


@pytest.mark.parametrize("locale, phrases", [
    ("ja-JP", ["次", "次へ", "もう一度", "一時停止", "再開", "最初から", "準備OK", "つぎ",
               "はじめて", "まってください", "続けてください", "もう一回言ってください"]),
    ("en-US", ["ready", "continue", "say that again", "go back", "explain"]),
])
def test_built_ins_are_extended_with_what_users_say(locale, phrases):
    samples = {s for i in language_model(load_model(locale))["intents"] for s in i["samples"]}
    assert set(phrases) <= samples


def test_daijoubu_is_not_a_no():
    intents = {i["name"]: i for i in language_model(load_model("ja-JP"))["intents"]}
    for name in ("AMAZON.NoIntent", "AMAZON.YesIntent"):
        assert not {"大丈夫", "大丈夫です"} & set(intents[name]["samples"])


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
    assert any("differs from content/en-US/" in p for p in problems)


# -- the pattern language -------------------------------------------------------------------------


def test_patterns_expand_alternatives_optional_parts_and_fragments():
    assert expand("(膝|ひざ)(が|)痛い") == ["膝が痛い", "膝痛い", "ひざが痛い", "ひざ痛い"]
    assert expand("<k>{step}", {"k": "(ステップ|)"}) == ["ステップ{step}", "{step}"]
    assert expand("(it|that) (hurts|really hurts)(| now)", spaced=True)[:3] == [
        "it hurts", "it hurts now", "it really hurts"]
    assert expand("(a|(b|c)d)") == ["a", "bd", "cd"]


@pytest.mark.parametrize("pattern", ["(a|b", "a)b", "<nope>", "(" * 3 + "a" + ")" * 2])
def test_broken_patterns_are_refused_clearly(pattern):
    with pytest.raises(PatternError):
        expand(pattern)


def test_a_pattern_that_expands_too_far_is_refused():
    wide = "(a|b|c|d|e|f|g|h|i|j)" * 3
    with pytest.raises(PatternError, match="split it"):
        expand(wide)
