"""Dependencies point inward: each hosting piece loads only what its job needs (fresh
interpreters, so nothing another test imported counts)."""

from __future__ import annotations

import pytest

from tests.support.imports import loaded_after, under


def test_the_verifier_does_not_import_the_skill():
    loaded = loaded_after("skill.hosting.verifier")
    assert under(loaded, "skill.alexa", "skill.core", "skill.content", "skill.output",
                 "skill.storage", "ask_sdk_core", "ask_sdk_model", "flask") == set()


def test_the_web_app_does_not_import_the_server():
    loaded = loaded_after("skill.web")
    assert under(loaded, "skill.hosting.server", "waitress") == set()


@pytest.mark.parametrize("module", ["skill.errors", "skill.hosting.request_checks"])
def test_the_error_hierarchy_and_the_text_checks_stand_alone(module):
    skill_modules = under(loaded_after(module), "skill")
    assert skill_modules <= {"skill", "skill.hosting", "skill.errors",
                             "skill.hosting.request_checks"}


def test_the_lambda_entry_loads_no_web_stack():
    loaded = loaded_after("skill.lambda_function")
    assert under(loaded, "flask", "werkzeug", "waitress", "cryptography", "requests") == set()
