"""The transition table, committed: a change of behaviour shows in the diff of
``tests/core/golden/transitions.txt``. After a deliberate change, write it again with
``python -m skill.core.transitions > tests/core/golden/transitions.txt`` and review the diff."""

from __future__ import annotations

from pathlib import Path

from skill.core.transitions import format_table, table

GOLDEN = Path(__file__).with_name("golden") / "transitions.txt"


def test_the_transition_table_is_the_reviewed_one(routine):
    now = format_table(table(routine))
    assert now == GOLDEN.read_text(encoding="utf-8"), (
        "the machine's behaviour changed: review `git diff` after "
        "python -m skill.core.transitions > tests/core/golden/transitions.txt")
