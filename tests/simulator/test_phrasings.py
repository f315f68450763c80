"""What people say is understood: the project's own phrasing set, measured with the simulator's NLU.

The phrasings in tests/phrasings/ are written from how people speak, apart from the patterns;
`make nlu-report` prints the same figures and lists what fails. These tests hold the floor reached.
tests/phrasings/heldout-<locale>.yaml is a second set, written by a speaker who had not read the
models (before any fix: ja-JP 69 %, en-US 69 %); it is held to the outside check's floors.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from skill.content.loader import LOCALES
from skill.simulator.nlu import FALLBACK, for_locale
from skill.simulator.nlu_report import load_phrasings, main, measure, overall

PHRASINGS = Path(__file__).resolve().parents[1] / "phrasings"
FLOOR_OVERALL = 0.97  # reached: 100 % in both locales
FLOOR_PER_MEANING = 0.85
ARTICLE_QUESTIONS = ("faq_no_ball", "faq_swelling_heat", "faq_every_day", "faq_how_long",
                     "faq_advanced_oa")


HELDOUT_OVERALL = 0.95  # reached: 99 % in both locales; the outside check asks 90 %
HELDOUT_PAIN = 0.95
HELDOUT_QUESTION = 0.85


@pytest.fixture(scope="module")
def results():
    return measure(PHRASINGS)


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    """The held-out sets, measured as the report measures <locale>.yaml files."""
    directory = tmp_path_factory.mktemp("heldout")
    for locale in LOCALES:
        shutil.copy(PHRASINGS / f"heldout-{locale}.yaml", directory / f"{locale}.yaml")
    return measure(directory)


@pytest.mark.parametrize("locale", LOCALES)
def test_at_least_fifteen_phrasings_per_meaning(locale):
    per_intent = Counter()
    for meaning in load_phrasings(PHRASINGS / f"{locale}.yaml").values():
        per_intent[meaning["intent"]] += len(meaning["say"])
    assert per_intent and min(per_intent.values()) >= 15, per_intent.most_common()[-3:]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_phrasing_set_is_understood(results, locale):
    assert overall(results, locale) >= FLOOR_OVERALL
    for coverage in (c for c in results if c.locale == locale):
        floor = 0.85 if coverage.meaning in ARTICLE_QUESTIONS else FLOOR_PER_MEANING
        assert coverage.share >= floor, (coverage.meaning, coverage.misses)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_heldout_set_is_understood(heldout, locale):
    assert overall(heldout, locale) >= HELDOUT_OVERALL
    mine = {c.meaning: c for c in heldout if c.locale == locale}
    assert mine["pain"].share >= HELDOUT_PAIN, mine["pain"].misses
    for question in ARTICLE_QUESTIONS:
        assert mine[question].share >= HELDOUT_QUESTION, (question, mine[question].misses)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["{locale}.yaml", "heldout-{locale}.yaml"])
def test_every_pain_phrase_is_pain_and_nothing_else(locale, name):
    pain = load_phrasings(PHRASINGS / name.format(locale=locale))["pain"]["say"]
    nlu = for_locale(locale)
    for text in pain:
        assert nlu.understand(text, in_session=True).intent == "PainIntent", text
        # outside a session, with the wake word and the skill's name, still pain
        one_shot = nlu.understand(f"{nlu.one_shot_phrase.replace('…', '')} {text}")
        assert one_shot.intent == "PainIntent" and one_shot.opens_session, text
    others = [s for i, ss in nlu.sample_texts.items() if i != "PainIntent" for s in ss]
    for text in pain:  # no other intent lists a pain phrase, with or without a slot filled
        heard = nlu.understand(text, in_session=True)
        assert heard.sample not in others


@pytest.mark.parametrize("locale, text", [
    ("ja-JP", "膝に痛みがあります"),
    ("ja-JP", "痛みがあります"),
    ("en-US", "I have pain in my knee"),
    ("en-US", "I've got pain in my knee"),
    ("en-US", "I have a sharp pain"),
])
def test_pain_is_never_an_equipment_answer(locale, text):
    assert for_locale(locale).understand(text, in_session=True).intent == "PainIntent"


@pytest.mark.parametrize("locale, text, wanted", [
    ("ja-JP", "ほげほげふがふが", None),
    ("ja-JP", "膝がいたいんですよね", "膝"),
    ("en-US", "my knee hurts so bad", "my knee hurts"),
])
def test_a_miss_offers_the_closest_listed_samples(locale, text, wanted):
    nlu = for_locale(locale)
    heard = nlu.understand(text, in_session=True)
    assert heard.intent == FALLBACK
    listed = {s for samples in nlu.sample_texts.values() for s in samples}
    assert len(heard.closest) == 3 and set(heard.closest) <= listed
    if wanted:
        assert wanted in heard.closest[0]
    assert heard.to_json()["closest"] == list(heard.closest)
    assert nlu.understand("膝が痛い" if locale == "ja-JP" else "my knee hurts",
                          in_session=True).closest == ()


def test_the_report_prints_coverage_and_failures(tmp_path, capsys):
    (tmp_path / "en-US.yaml").write_text(
        "meanings:\n  pain:\n    intent: PainIntent\n    say: [my knee hurts, blorp]\n",
        encoding="utf-8")
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== en-US: 50.0% understood" in out
    assert "pain: 'blorp' -> AMAZON.FallbackIntent" in out


def test_the_report_refuses_a_malformed_file(tmp_path, capsys):
    (tmp_path / "ja-JP.yaml").write_text("meanings:\n  pain: [痛い]\n", encoding="utf-8")
    assert main([str(tmp_path)]) == 2
    assert "needs `intent`" in capsys.readouterr().err
