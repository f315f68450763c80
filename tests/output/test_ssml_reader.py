"""``ssml.read``: the one SSML reader (timing, tests and the simulator read speech through it)."""

from __future__ import annotations

import pytest

from skill.content.loader import SpeechRate
from skill.output import ssml
from skill.output.timing import ssml_seconds


def test_a_sub_is_shown_as_written_and_spoken_as_its_alias():
    pieces = list(ssml.read('<speak>Sit on <sub alias="a chair">the seat</sub> &amp; rest</speak>'))
    assert "".join(p.written for p in pieces) == "Sit on the seat & rest"
    assert "".join(p.spoken for p in pieces) == "Sit on a chair & rest"


def test_breaks_prosody_and_hidden_descriptions():
    pieces = list(ssml.read('<prosody rate="80%">slow <break time="1.5s"/>'
                            '<prosody rate="50%">slower</prosody></prosody>'
                            '<audio src="x"><desc>not said</desc></audio><break strength="weak"/>'))
    assert [p.pause for p in pieces if p.pause] == [1.5, 0.25]
    assert [(p.spoken, p.rate) for p in pieces if p.spoken] == [("slow ", 80), ("slower", 40)]
    assert any(p.audio for p in pieces)
    assert "not said" not in "".join(p.written + p.spoken for p in pieces)


def test_a_bad_break_is_refused_unless_reading_leniently():
    with pytest.raises(ValueError, match="bad break time"):
        list(ssml.read('<break time="soon"/>'))
    assert list(ssml.read('<break time="soon"/>ok', strict=False)) == [
        ssml.Piece(pause=0.0), ssml.Piece("ok", "ok")]


def test_seconds_count_speech_at_its_prosody_rate_and_breaks_as_written():
    words = SpeechRate(unit="words", per_second=2.0)
    assert ssml_seconds('<speak>one two <break time="500ms"/>three four</speak>', words) == 2.5
    assert ssml_seconds('<prosody rate="50%">one two</prosody>', words) == 2.0
    assert ssml.pause_seconds(ssml_seconds("<break time='12s'/>", words)) == 12.0
    assert ssml.pause(12) == '<break time="10000ms"/><break time="2000ms"/>'
