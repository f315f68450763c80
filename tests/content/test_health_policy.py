"""What the skill says about health: attributed to the article's author, no promised outcome;
and help that first says what the skill is, in every state, the first question included."""

from __future__ import annotations

import pytest

from skill.content.loader import LOCALES
from tests.support.envelopes import Session
from tests.support.skill_servers import lambda_skill

ABOUT = {"en-US": ("ten-minute", "five", "step by step"), "ja-JP": ("10分", "5つ", "一つずつ")}
ATTRIBUTED = {"en-US": "author", "ja-JP": "著者"}
VARIES = {"en-US": "varies", "ja-JP": "個人差"}
DOCTOR = {"en-US": "doctor", "ja-JP": "医師"}
PROMISES = {"en-US": ("can be expected", "will ease", "will slow", "guaranteed to"),
            "ja-JP": ("期待できます", "必ず", "治ります")}
# The answers that report an outcome (the article's FAQ on time to effect and on advanced
# osteoarthritis, and its note on a knee that feels deformed).
OUTCOMES = ("how_long", "advanced_oa", "cautions")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_help_first_says_what_the_skill_does(content, locale):
    helps = {k: v for k, v in content.for_locale(locale).prompts.items() if k.startswith("help_")}
    assert "help_equipment" in helps and len(helps) >= 5
    for key, lines in helps.items():
        for line in [lines] if isinstance(lines, str) else lines:
            first = line.split("。")[0] if locale == "ja-JP" else line.split(". ")[0]
            assert all(word in first for word in ABOUT[locale]), key


@pytest.mark.parametrize("locale", LOCALES)
def test_help_at_the_first_question_explains_the_skill_then_the_choice(tmp_path, monkeypatch,
                                                                       content, locale):
    with lambda_skill(tmp_path / "help.sqlite3", monkeypatch) as send:
        s = Session(send, locale=locale, user="new")
        s.launch()
        s.say("AMAZON.HelpIntent")
    about = content.for_locale(locale).prompt("help_equipment")
    assert about in s.text and s.open
    towel = "towel" if locale == "en-US" else "タオル"
    assert s.text.index(ABOUT[locale][0]) < s.text.index(towel)


@pytest.mark.parametrize("locale", LOCALES)
def test_faq_answers_that_report_an_outcome_are_attributed_and_promise_nothing(content, locale):
    faq = content.for_locale(locale).faq
    for topic in OUTCOMES:
        answer = faq[topic].answer
        assert ATTRIBUTED[locale] in answer, topic
        assert VARIES[locale] in answer and DOCTOR[locale] in answer, topic
    for topic in faq.values():
        assert not any(p in topic.answer for p in PROMISES[locale]), topic.id
