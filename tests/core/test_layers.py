"""Dependencies point inward: the core, imported alone, loads nothing impure and nothing of the
skill outside it; the inner layers load none of the outer ones."""

from __future__ import annotations

import pytest

from tests.support.imports import loaded_after, under

IMPURE = ("yaml", "pickle", "sqlite3", "ask_sdk_core", "ask_sdk_model", "ask_sdk_runtime",
          "flask", "werkzeug", "requests", "botocore", "boto3", "cryptography", "waitress")


def test_the_core_is_pure():
    loaded = loaded_after("skill.core.machine", "skill.core.transitions", "skill.core.routine")
    assert under(loaded, *IMPURE) == set()
    assert under(loaded, "skill") - under(loaded, "skill.core") == {"skill"}


@pytest.mark.parametrize(("module", "outer"), [
    ("skill.output.render", ("skill.alexa", "skill.storage", "skill.hosting", "skill.simulator",
                             "ask_sdk_core", "flask", "sqlite3")),
    ("skill.storage.sqlite", ("skill.alexa", "skill.hosting", "skill.output", "flask")),
    ("skill.lambda_function", ("skill.simulator", "skill.web", "skill.hosting.verifier",
                               "skill.hosting.server", "flask", "waitress", "cryptography")),
])
def test_inner_layers_do_not_load_outer_ones(module, outer):
    assert under(loaded_after(module), *outer) == set()
