"""What people say, heard by the simulator's NLU and answered by the skill: the answers a user
would notice (the ball question, steps by counter, the questions, pain mid-set)."""

from __future__ import annotations

import pytest

from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.content.loader import load_content
from skill.simulator.nlu import for_locale
from skill.storage.sqlite import SQLiteAdapter
from tests.support.envelopes import envelope, speech_text


class Talk:
    """One user talking to the skill: text in, what the skill says out (one session)."""

    def __init__(self, locale: str, tmp_path) -> None:
        self.locale = locale
        self.nlu = for_locale(locale)
        self.runtime = SkillRuntime(SkillConfig(persistence=SQLiteAdapter(tmp_path / "s.db")))
        self.attributes: dict = {}
        self.new = True
        self.heard = None

    def say(self, text: str) -> str:
        self.heard = self.nlu.understand(text, in_session=not self.new)
        response = self.runtime.handle(envelope(
            self.heard.request(), locale=self.locale, user="talk", session_id="talk-session",
            new=self.new, attributes=self.attributes))
        self.new = False
        self.attributes = response.get("sessionAttributes") or {}
        return speech_text(response)


def content(locale):
    return load_content().for_locale(locale)


def tool_set(locale, tool):
    lc = content(locale)
    return lc.prompt("equipment_set").format(tool=lc.tools[tool]).rstrip("。.")


@pytest.mark.parametrize("locale, answer, tool", [
    ("ja-JP", "はい、あります", "ball"),
    ("ja-JP", "持ってる", "ball"),
    ("ja-JP", "ある", "ball"),
    ("ja-JP", "ない", "towel"),
    ("ja-JP", "持ってない", "towel"),
    ("ja-JP", "タオルで", "towel"),
    ("ja-JP", "ボールがあります", "ball"),
    ("en-US", "yes", "ball"),
    ("en-US", "I have a ball", "ball"),
    ("en-US", "no", "towel"),
    ("en-US", "towel", "towel"),
    ("en-US", "I'll use a towel", "towel"),
])
def test_the_ball_question_takes_the_usual_answers(locale, answer, tool, tmp_path):
    talk = Talk(locale, tmp_path)
    talk.say(talk.nlu.launch_phrase)
    assert tool_set(locale, tool) in talk.say(answer)


@pytest.mark.parametrize("locale, said, step", [
    ("ja-JP", "三つ目", 3), ("ja-JP", "3番目", 3), ("ja-JP", "3つ目の運動", 3),
    ("ja-JP", "四番目の体操", 4), ("ja-JP", "ステップ3", 3),
    ("en-US", "step three", 3), ("en-US", "the third one", 3),
    ("en-US", "exercise number four", 4), ("en-US", "go to the fourth exercise", 4),
])
def test_steps_by_number_ordinal_and_counter(locale, said, step, tmp_path):
    talk = Talk(locale, tmp_path)
    talk.say(talk.nlu.launch_phrase)
    talk.say("タオル" if locale == "ja-JP" else "towel")
    assert content(locale).steps[step - 1].title in talk.say(said)


@pytest.mark.parametrize("locale, question, topic", [
    ("ja-JP", "毎日やるべきですか", "every_day"),
    ("ja-JP", "ピラティスボールがない場合はどうすればいいですか", "no_ball"),
    ("ja-JP", "効果が出るまでどのくらいかかりますか", "how_long"),
    ("ja-JP", "タオルでもいいですか", "no_ball"),
    ("en-US", "should I do this every day", "every_day"),
    ("en-US", "can I use a towel instead", "no_ball"),
    ("en-US", "how long until it works", "how_long"),
])
def test_the_articles_questions_get_their_answers(locale, question, topic, tmp_path):
    talk = Talk(locale, tmp_path)
    talk.say(talk.nlu.launch_phrase)
    spoken = talk.say(question)
    assert content(locale).faq[topic].answer[:20] in spoken


@pytest.mark.parametrize("locale, text", [
    ("ja-JP", "質問があります"), ("en-US", "I have a question")])
def test_i_have_a_question_gives_a_few_examples(locale, text, tmp_path):
    talk = Talk(locale, tmp_path)
    talk.say(talk.nlu.launch_phrase)
    spoken = talk.say(text)
    assert talk.heard.intent == "FaqIntent"
    assert "とはについて" not in spoken
    names = [t.name for t in content(locale).faq.values()]
    assert sum(name in spoken for name in names) <= 3


@pytest.mark.parametrize("locale, text", [
    ("ja-JP", "膝に痛みがあります"), ("ja-JP", "ズキズキする"), ("ja-JP", "膝が変"),
    ("en-US", "I have pain in my knee"), ("en-US", "I've got pain in my knee"),
    ("en-US", "my knee is killing me"),
])
def test_pain_mid_set_stops_the_exercise(locale, text, tmp_path):
    talk = Talk(locale, tmp_path)
    talk.say(talk.nlu.launch_phrase)
    talk.say("ボール" if locale == "ja-JP" else "ball")
    talk.say("準備OK" if locale == "ja-JP" else "ready")
    spoken = talk.say(text)
    assert talk.heard.intent == "PainIntent"
    assert content(locale).prompt("pain_stop") in spoken
