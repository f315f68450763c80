"""Settings from the environment, shared by the Lambda handler and the command line."""

from __future__ import annotations

import os
from pathlib import Path

from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.alexa.timezone import TimeZones
from skill.storage.record import Store

SKILL_ID_ENV = "KNEE_ROUTINE_SKILL_ID"
DATABASE_ENV = "KNEE_ROUTINE_DB"
TABLE_ENV = "KNEE_ROUTINE_TABLE"  # set (template.yaml does): DynamoDB instead of SQLite
DEFAULT_DATABASE = Path("var") / "knee-routine.sqlite3"


def skill_id_from_env() -> str | None:
    return os.environ.get(SKILL_ID_ENV) or None


def database_from_env() -> Path:
    if os.environ.get(DATABASE_ENV):
        return Path(os.environ[DATABASE_ENV])
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda only /tmp is writable
        import tempfile

        return Path(tempfile.gettempdir()) / DEFAULT_DATABASE.name
    return DEFAULT_DATABASE


def table_from_env() -> str | None:
    return os.environ.get(TABLE_ENV) or None


def store_from_env(database: str | Path | None = None) -> Store:
    """The one place a store is chosen: SQLite at ``database`` when one is given, else DynamoDB
    when a table is configured, else SQLite at ``database_from_env()``. Imported lazily: the
    DynamoDB client is heavy, and SQLite runs need none of it."""
    table = table_from_env()
    if database is None and table is not None:
        from skill.storage.dynamodb import DynamoDbStore

        return DynamoDbStore(table)
    from skill.storage.sqlite import SQLiteStore

    return SQLiteStore(database if database is not None else database_from_env())


def runtime_from_env(time_zones: TimeZones | None = None) -> SkillRuntime:
    """The skill as the environment configures it (store, skill id check)."""
    return SkillRuntime(SkillConfig(persistence=store_from_env(), skill_id=skill_id_from_env(),
                                     time_zones=time_zones))
