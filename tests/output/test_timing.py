"""Timed narration: every set matches the article's timing, within Alexa's limits."""

from __future__ import annotations

import re

import pytest

from skill.content.loader import LOCALES
from skill.core.machine import Event, EventKind, Phase, Profile, start_state, step
from skill.output.timing import speech_seconds, ssml_seconds
from tests.support.ssml_checks import ssml_problems

TOLERANCE = 0.10
MAX_RESPONSE_SECONDS = 90


def all_sets(routine):
    return [(i, j) for i, t in enumerate(routine.steps) for j in range(t.sets)]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("equipment", ["ball", "towel"])
def test_each_set_lasts_what_the_step_declares(content, renderers, locale, equipment):
    lc = content.for_locale(locale)
    for i, j in all_sets(content.routine):
        timing = content.routine.steps[i]
        fragment = renderers[locale].narrate_set(i, j, equipment)
        seconds = ssml_seconds(fragment, lc.rate)
        assert abs(seconds - timing.set_seconds) <= TOLERANCE * timing.set_seconds, (
            f"{locale} {timing.id} set {j + 1}: narrated {seconds:.1f} s, "
            f"declared {timing.set_seconds:.0f} s")


def test_declared_timings_match_the_article(routine):
    """Per side or per step, as the article states it, within 10 %."""
    total = 0.0
    for t in routine.steps:
        per_side = t.set_seconds if t.sides == "each" else None
        measured = per_side if t.article_per == "side" else t.set_seconds * t.sets
        assert measured is not None, f"{t.id}: article timing is per side, the step is not"
        low, high = t.article_min * (1 - TOLERANCE), t.article_max * (1 + TOLERANCE)
        assert low <= measured <= high, f"{t.id}: {measured} s vs article {t.article_text}"
        total += t.set_seconds * t.sets
    assert 6 * 60 <= total <= 9 * 60  # the exercise itself; rests, moves and intros add the rest


def test_holds_match_the_article(routine):
    holds = {t.id: t.phases[0].seconds for t in routine.steps}
    assert holds["squeeze_lift"] == 10  # "10秒程度保持"
    assert 5 <= holds["side_lying"] <= 10  # "5〜10秒保持"
    side_lying = next(t for t in routine.steps if t.id == "side_lying")
    assert side_lying.set_seconds * side_lying.sets <= 66  # "横向き潰しで補強1分"


@pytest.mark.parametrize("locale", LOCALES)
def test_ja_countdowns_are_drawn_out_to_be_heard(content, renderers, locale):
    counts = content.for_locale(locale).counts
    if locale == "ja-JP":
        assert counts[1:4] == ("いーち", "にーい", "さーん")  # a lone 「に」 is lost
    fragment = renderers[locale].narrate_set(0, 0, "ball")
    assert fragment.count(counts[3]) == content.routine.steps[0].reps


REGULAR = Profile(disclaimer_heard=True, equipment="ball", days_done=5, streak=5,
                  last_day="2026-11-24")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_whole_routine_as_heard_fits_the_ten_minutes_and_each_turn_fits_alexa(
        content, renderers, locale):
    """Speech and silences, answering at once: a regular (brief intros) takes 8 to 12 minutes;
    the first time may take longer, and the welcome says how long."""
    lc = content.for_locale(locale)
    totals = {}
    for mode, profile in (("first time", Profile()), ("regular", REGULAR)):
        outcome = step(start_state(profile), Event(EventKind.LAUNCH, today="2026-11-25"),
                       content.routine)
        total, turns = 0.0, 0
        while True:
            rendered = renderers[locale].render(outcome, outcome.state.profile.equipment)
            seconds = ssml_seconds(rendered.ssml, lc.rate)
            assert ssml_problems(rendered.ssml) == []
            assert seconds <= MAX_RESPONSE_SECONDS, f"{mode} turn {turns}: {seconds:.0f} s"
            total += seconds
            turns += 1
            if outcome.end_session:
                break
            answer = EventKind.YES if outcome.state.phase is Phase.EQUIPMENT else EventKind.NEXT
            outcome = step(outcome.state, Event(answer, today="2026-11-25"), content.routine)
        totals[mode] = total
        print(f"{locale} {mode}: {total / 60:.1f} minutes as heard, {turns} answers")
    assert 8 * 60 <= totals["regular"] <= 12 * 60
    assert totals["regular"] <= totals["first time"] <= 15 * 60


def test_breaks_are_chained_below_ten_seconds(renderers):
    from skill.output import ssml

    assert ssml.pause(25) == ('<break time="10000ms"/><break time="10000ms"/>'
                              '<break time="5000ms"/>')
    assert ssml.pause(0) == "" and ssml.pause(-1) == ""


def test_ja_lexicon_is_applied_longest_word_first(renderers):
    text = renderers["ja-JP"]._say("変形性膝関節症と内側広筋と膝関節")
    assert text.count("<sub") == 3
    assert '<sub alias="へんけいせいしつかんせつしょう">変形性膝関節症</sub>' in text
    assert '<sub alias="ないそくこうきん">内側広筋</sub>' in text


def test_every_lexicon_word_is_used_in_the_ja_content(content):
    from skill.content.loader import CONTENT_DIR

    corpus = "".join(p.read_text(encoding="utf-8") for p in (CONTENT_DIR / "ja-JP").glob("*.yaml")
                     if p.name != "lexicon.yaml")
    lexicon = content.for_locale("ja-JP").lexicon
    assert {"内側広筋", "脛骨", "背屈", "側臥位", "大腿四頭筋"} <= set(lexicon)
    assert [w for w in lexicon if w not in corpus] == []


def test_text_is_escaped(renderers):
    assert renderers["en-US"]._say("Tom & <Jerry>") == "Tom &amp; &lt;Jerry&gt;"


def test_speech_rate_counts_words_or_characters(content):
    en, ja = content.for_locale("en-US").rate, content.for_locale("ja-JP").rate
    assert speech_seconds("one two three four five", en) == pytest.approx(5 / en.per_second)
    assert speech_seconds("いち、に。", ja) == pytest.approx(3 / ja.per_second)


def test_countdown_is_spoken_at_the_end_of_each_hold(renderers):
    fragment = renderers["en-US"].narrate_set(2, 0, "towel")
    assert len(re.findall(r"three<break[^>]*/> two<break[^>]*/> one", fragment)) == 4
    assert fragment.count("Right leg,") == 2 and fragment.count("Left leg,") == 2


@pytest.mark.parametrize("locale", LOCALES)
def test_no_line_of_a_set_is_said_twice_and_each_rep_says_how_many_are_left(content, renderers,
                                                                          locale):
    lc = content.for_locale(locale)
    for i, j in all_sets(content.routine):
        text = re.sub(r"<[^>]+>", " ", renderers[locale].narrate_set(i, j, "ball"))
        lines = [x.strip() for x in re.split(r"[。.!?]", text) if x.strip()]
        assert len(lines) == len(set(lines)), (locale, i, j)
        reps = content.routine.steps[i].reps
        left = lc.prompt("reps_left").format(number=reps - 1).strip("、,. 。")
        assert left in text, (locale, i)
