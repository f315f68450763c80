"""The local NLU understands what the interaction models list, as Alexa would, and nothing more."""

from __future__ import annotations

import re

import pytest

from skill.alexa.intents import event_for, faq_topic_of
from skill.alexa.interaction_model import language_model, load_model
from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.content.loader import LOCALES
from skill.simulator.nlu import FALLBACK, for_locale
from skill.simulator.nlu_words import NUMBER, TIME, parse_number, parse_time
from skill.storage.sqlite import SQLiteAdapter
from tests.support.envelopes import custom_slot, envelope, intent, speech_text

SLOT = re.compile(r"\{(\w+)\}")


def model_samples(locale):
    """(intent, sample text with its slots filled, {slot: expected}) for every sample."""
    lm = language_model(load_model(locale))
    types = {t["name"]: t["values"] for t in lm.get("types", [])}
    for item in lm["intents"]:
        declared = {s["name"]: s["type"] for s in item.get("slots", [])}
        for sample in item["samples"]:
            expected = {}

            def fill(m, declared=declared, expected=expected):
                slot_type = declared[m.group(1)]
                if slot_type == NUMBER:
                    expected[m.group(1)] = "3"
                    return "3"
                if slot_type == TIME:
                    expected[m.group(1)] = "19:30"
                    return "午後7時半" if locale == "ja-JP" else "7:30 pm"
                value = types[slot_type][-1]  # a value, said as one of its synonyms
                said = (value["name"].get("synonyms") or [value["name"]["value"]])[0]
                expected[m.group(1)] = value.get("id") or value["name"]["value"]
                return said

            yield item["name"], SLOT.sub(fill, sample), expected


def step_of(heard):
    return event_for(heard.request()["intent"], None, {}).number


def step_of_expected(expected):
    return int(expected.get("step") or expected.get("ordinal"))


def resolved_ids(slot):
    authority = slot["resolutions"]["resolutionsPerAuthority"][0]
    return authority["status"]["code"], [v["value"]["id"] for v in authority.get("values", [])]


def check_heard(heard, name, expected):
    assert heard is not None and heard.intent == name, (heard and heard.intent, heard)
    if name == "GoToStepIntent":  # 九番目 is a number slot or an ordinal value: the same step
        assert step_of(heard) == step_of_expected(expected), heard
        return
    for slot, want in expected.items():
        value = heard.slots[slot]
        if "resolutions" in value:
            assert resolved_ids(value) == ("ER_SUCCESS_MATCH", [want])
        else:
            assert value["value"] == want


@pytest.mark.parametrize("locale", LOCALES)
def test_every_sample_resolves_to_its_own_intent(locale):
    nlu = for_locale(locale)
    samples = list(model_samples(locale))
    assert len(samples) > 200
    for name, text, expected in samples:
        check_heard(nlu.understand(text, in_session=True), name, expected)
        # Said with the wake word, outside a session: the same intent, as a one-shot.
        check_heard(nlu.understand(f"Alexa, {text}", in_session=False), name, expected)


def ja_variants(text):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return [f"{text}。", f"{text}！", f"「{text}」？", f"{text}、", fullwidth, f" {text} "]


def en_variants(text):
    return [text.upper() + "!", text.capitalize() + ".", text.replace("'", "\u2019") + "?",
            f"  {text},  ", text.title() + "..."]


@pytest.mark.parametrize("locale, variants", [("ja-JP", ja_variants), ("en-US", en_variants)])
def test_punctuation_width_and_case_do_not_matter(locale, variants):
    nlu = for_locale(locale)
    for name, text, expected in model_samples(locale):
        for variant in variants(text):
            check_heard(nlu.understand(variant, in_session=True), name, expected)


@pytest.mark.parametrize("text, intent", [
    ("ｽﾃｯﾌﾟ２に進んで", "GoToStepIntent"),  # half-width katakana, full-width digit
    ("準備ＯＫ！", "AMAZON.NextIntent"),
    ("準備 ok", "AMAZON.NextIntent"),
    ("もう一度。", "AMAZON.RepeatIntent"),
    ("ひざが痛い", "PainIntent"),
    ("膝が痛い", "PainIntent"),
])
def test_japanese_forms(text, intent):
    assert for_locale("ja-JP").understand(text, in_session=True).intent == intent


@pytest.mark.parametrize("locale", LOCALES)
def test_every_slot_value_and_synonym_resolves_with_entity_resolution(locale):
    nlu = for_locale(locale)
    lm = language_model(load_model(locale))
    carrier = {}  # slot type -> (intent, slot, sample): the first sample that takes it
    for item in lm["intents"]:
        for slot in item.get("slots", []):
            for sample in item["samples"]:
                if "{" + slot["name"] + "}" in sample and SLOT.findall(sample) == [slot["name"]]:
                    carrier.setdefault(slot["type"], (item["name"], slot["name"], sample))
    for slot_type in lm["types"]:
        intent_name, slot_name, sample = carrier[slot_type["name"]]
        for value in slot_type["values"]:
            for phrase in (value["name"]["value"], *value["name"].get("synonyms", [])):
                text = sample.replace("{" + slot_name + "}", phrase)
                heard = nlu.understand(text, in_session=True)
                if slot_type["name"] == "FAQ_TOPIC" and heard.intent != intent_name:
                    # the topic's own intent lists the words too: the same answer
                    assert faq_topic_of(heard.intent) == value["id"], text
                    continue
                assert heard.intent == intent_name, text
                if intent_name == "GoToStepIntent":  # ステップ3: a number or an ordinal value
                    assert step_of(heard) == int(value["id"]), text
                    continue
                slot = heard.slots[slot_name]
                # a longer listed answer may be heard as a shorter value and its carrier
                # (ボールでお願い = {equipment}でお願い): it resolves to the same value
                assert slot["value"] in (phrase if locale == "ja-JP" else phrase.casefold())
                authority = slot["resolutions"]["resolutionsPerAuthority"][0]
                assert authority["authority"].endswith("." + slot_type["name"])
                assert authority["status"] == {"code": "ER_SUCCESS_MATCH"}
                assert {"value": {"name": value["name"]["value"], "id": value["id"]}} \
                    in authority["values"]


@pytest.mark.parametrize("locale, phrases, slot_id", [
    # kana and kanji spellings listed as synonyms resolve to the same value
    ("ja-JP", ["柔らかいボール", "やわらかいボール", "ボール", "ぼーる"], "ball"),
    ("ja-JP", ["たたんだタオル", "畳んだタオル", "折り畳んだタオル", "ﾀｵﾙ"], "towel"),
    ("en-US", ["A folded towel", "THE TOWEL", "bath towel!"], "towel"),
])
def test_spellings_resolve_to_one_value(locale, phrases, slot_id):
    for phrase in phrases:
        slot = for_locale(locale).understand(phrase, in_session=True).slots["equipment"]
        assert resolved_ids(slot) == ("ER_SUCCESS_MATCH", [slot_id])


@pytest.mark.parametrize("locale, text, said", [
    ("en-US", "tell me about the weather", "the weather"),
    ("ja-JP", "天気について教えて", "天気"),
])
def test_an_unlisted_value_is_filled_without_a_match(locale, text, said):
    heard = for_locale(locale).understand(text, in_session=True)
    assert heard.intent == "FaqIntent"
    assert heard.slots["topic"]["value"] == said
    authority = heard.slots["topic"]["resolutions"]["resolutionsPerAuthority"][0]
    assert authority["status"] == {"code": "ER_SUCCESS_NO_MATCH"} and "values" not in authority


def test_slots_have_the_shape_alexa_sends():
    heard = for_locale("en-US").understand("tell me about how often", in_session=True)
    ours = heard.slots["topic"]
    theirs = custom_slot("topic", "how often", "every_day")["topic"]
    for slot in (ours, theirs):  # the authority names the skill and type: compare the rest
        slot["resolutions"]["resolutionsPerAuthority"][0].pop("authority")
    assert ours == theirs
    empty = for_locale("en-US").understand("I have a question", in_session=True)
    assert empty.intent == "FaqIntent"
    assert empty.slots == {"topic": {"name": "topic", "confirmationStatus": "NONE"}}


@pytest.mark.parametrize("locale, text, number", [
    ("en-US", "go to step three", 3),
    ("en-US", "Go to step 4!", 4),
    ("en-US", "step number five", 5),
    ("en-US", "step twenty-one", 21),
    ("en-US", "go to step one hundred and two", 102),
    ("ja-JP", "ステップ３に進んで", 3),
    ("ja-JP", "ステップ三に進んで", 3),
    ("ja-JP", "ステップ二十", 20),
    ("ja-JP", "十二番目の運動", 12),
    ("ja-JP", "ステップさん", 3),
])
def test_numbers_are_digits_words_or_numerals(locale, text, number):
    heard = for_locale(locale).understand(text, in_session=True)
    assert heard.intent == "GoToStepIntent"
    assert heard.slots["step"] == {"name": "step", "confirmationStatus": "NONE",
                                   "value": str(number)}


@pytest.mark.parametrize("locale, spoken, value", [
    ("en-US", "9 am", "09:00"),
    ("en-US", "nine a.m.", "09:00"),
    ("en-US", "9:30 PM", "21:30"),
    ("en-US", "seven oh five in the evening", "19:05"),
    ("en-US", "noon", "12:00"),
    ("en-US", "in the morning", "MO"),
    ("ja-JP", "午前9時", "09:00"),
    ("ja-JP", "夜８時半", "20:30"),
    ("ja-JP", "午後三時十五分", "15:15"),
    ("ja-JP", "21時", "21:00"),
    ("ja-JP", "夕方", "EV"),
])
def test_times_are_read_as_alexa_sends_them(locale, spoken, value):
    assert parse_time(spoken, locale) == value


@pytest.mark.parametrize("locale, spoken", [
    ("en-US", "banana"), ("en-US", "three bananas"), ("ja-JP", "バナナ"), ("ja-JP", "三つ四"),
])
def test_not_a_number(locale, spoken):
    assert parse_number(spoken, locale) is None


@pytest.mark.parametrize("locale, text", [
    ("en-US", "asdf qwer"),
    ("en-US", "purple monkey dishwasher"),
    ("en-US", "go to step banana"),
    ("en-US", "what's the weather"),
    ("ja-JP", "ほげほげ"),
    ("ja-JP", "今日の天気は"),
    ("ja-JP", "ステップバナナ"),
])
def test_gibberish_falls_back(locale, text):
    heard = for_locale(locale).understand(text, in_session=True)
    assert heard.intent == FALLBACK and heard.slots == {} and heard.sample is None
    assert heard.request() == {"type": "IntentRequest", "intent": {
        "name": FALLBACK, "confirmationStatus": "NONE", "slots": {}}}


@pytest.mark.parametrize("locale, text", [("en-US", ""), ("en-US", "?!"), ("ja-JP", "。、"),
                                          ("en-US", "Alexa"), ("ja-JP", "アレクサ")])
def test_nothing_said(locale, text):
    assert for_locale(locale).understand(text) is None


@pytest.mark.parametrize("locale, text", [
    ("en-US", "open knee routine"),
    ("en-US", "Alexa, open Knee Routine."),
    ("en-US", "launch knee routine"),
    ("en-US", "ask knee routine"),
    ("ja-JP", "ひざ トレーニングを開いて"),
    ("ja-JP", "ひざトレーニングを開いて"),
    ("ja-JP", "アレクサ、ひざトレーニングを開いて。"),
    ("ja-JP", "ひざトレーニングを起動して"),
    ("ja-JP", "ヒザトレーニングを開いてください"),
])
def test_launch_phrases_open_the_skill(locale, text):
    for in_session in (False, True):
        heard = for_locale(locale).understand(text, in_session=in_session)
        assert heard.opens_session and heard.invocation == "launch"
        assert heard.request() == {"type": "LaunchRequest"}


@pytest.mark.parametrize("locale, text, intent_name", [
    ("en-US", "start knee routine", "StartRoutineIntent"),
    ("en-US", "Alexa, ask knee routine to start", "StartRoutineIntent"),
    ("en-US", "tell knee routine to start over", "AMAZON.StartOverIntent"),
    ("en-US", "ask knee routine for help", "AMAZON.HelpIntent"),
    ("en-US", "ask knee routine what if I don't have a ball", "FaqNoBallIntent"),
    ("ja-JP", "ひざトレーニングで始めて", "StartRoutineIntent"),
    ("ja-JP", "ひざトレーニングを始めて", "StartRoutineIntent"),
    ("ja-JP", "アレクサ、ひざトレーニングで続きから", "AMAZON.ResumeIntent"),
    ("ja-JP", "ひざトレーニングでボールがないとき", "FaqNoBallIntent"),
])
def test_one_shot_launches_with_the_intent(locale, text, intent_name):
    heard = for_locale(locale).understand(text)
    assert heard.invocation == "one_shot" and heard.opens_session
    assert heard.intent == intent_name


def test_inside_a_session_the_skills_own_words_stay_in_it():
    heard = for_locale("en-US").understand("start knee routine", in_session=True)
    assert heard.intent == "StartRoutineIntent" and not heard.opens_session


@pytest.mark.parametrize("locale, text", [
    ("en-US", "ask knee routine what if I don't have a ball"),
    ("ja-JP", "ひざトレーニングでボールがないとき"),
])
def test_the_skill_answers_what_the_nlu_heard_as_it_answers_alexa(locale, text, tmp_path):
    """The FAQ one-shot resolved locally gets the same answer as Alexa's resolved request."""
    heard = for_locale(locale).understand(text)
    store = SQLiteAdapter(tmp_path / "store.sqlite3")
    runtime = SkillRuntime(SkillConfig(persistence=store))
    ours = runtime.handle(envelope(heard.request(), locale=locale, user="nlu-a"))
    theirs = runtime.handle(intent("FaqIntent", custom_slot("topic", "x", "no_ball"),
                                   locale=locale, user="nlu-b"))
    assert speech_text(ours) == speech_text(theirs)
