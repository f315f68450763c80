"""The hostile-text checks give the same verdict whether they may use the raw body's shortcut
(the web app) or must look at the parsed event alone (Lambda)."""

from __future__ import annotations

import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skill.errors import UntrustedText
from skill.hosting.request_checks import check_request
from tests.hosting.test_hostile import text_attacks


def verdict(event: dict, body: bytes | None) -> object:
    try:
        return check_request(event, body)
    except UntrustedText as e:
        return f"refused: {e}"


@settings(max_examples=500, database=None, deadline=None)
@given(doc=text_attacks(), ensure_ascii=st.booleans())
def test_the_raw_body_shortcut_changes_no_verdict(doc, ensure_ascii):
    try:
        body = json.dumps(doc, ensure_ascii=ensure_ascii).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written raw is not UTF-8: refused earlier
        assume(False)
    assert verdict(json.loads(body), body) == verdict(json.loads(body), None)
