"""Fixtures for the store tests: moto's DynamoDB server (one per module) and fresh tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from skill.hosting import settings
from skill.storage import dynamodb as dynamo
from tests.storage.moto import Dynamo, aws_env, moto_server


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def dynamo_db(moto_url) -> Dynamo:
    return Dynamo(moto_url)


@pytest.fixture
def table(dynamo_db) -> str:
    name = f"knee-routine-{uuid.uuid4().hex[:12]}"
    dynamo_db.create_table(name)
    return name


@pytest.fixture
def aws(monkeypatch):
    """The Lambda configuration in this process, pointed at ``endpoint`` (no real AWS)."""

    def point_at(endpoint: str) -> None:
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in aws_env(endpoint).items():
            monkeypatch.setenv(key, value)
        dynamo.reset_client()  # one client per process: a new endpoint needs a new one

    yield point_at
    dynamo.reset_client()


@pytest.fixture
def skill_on(monkeypatch, aws):
    """A runtime on ``table`` through ``endpoint``, as Lambda would build it; its ``handle``."""

    def build(table: str, endpoint: str):
        aws(endpoint)
        monkeypatch.setenv(settings.TABLE_ENV, table)
        monkeypatch.delenv(settings.SKILL_ID_ENV, raising=False)
        monkeypatch.delenv(settings.DATABASE_ENV, raising=False)
        return settings.runtime_from_env().handle

    return build
