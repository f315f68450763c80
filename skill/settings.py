"""Settings from the environment, shared by the Lambda handler and the command line."""

from __future__ import annotations

import os
from pathlib import Path

from skill.builder import SkillConfig, SkillRuntime

SKILL_ID_ENV = "KNEE_ROUTINE_SKILL_ID"
DATABASE_ENV = "KNEE_ROUTINE_DB"
DEFAULT_DATABASE = Path("var") / "knee-routine.sqlite3"


def skill_id_from_env() -> str | None:
    return os.environ.get(SKILL_ID_ENV) or None


def database_from_env() -> Path:
    return Path(os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE)


def runtime_from_env() -> SkillRuntime:
    """The skill as the environment configures it (SQLite store, skill id check)."""
    from skill.persistence import SQLiteAdapter

    store = SQLiteAdapter(database_from_env())
    return SkillRuntime(SkillConfig(persistence=store, skill_id=skill_id_from_env()))
