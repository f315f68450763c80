"""Read and write the skill manifest (interaction_models/skill.json) and the deploy settings
(publish.toml), for scripts/set_endpoint.py and scripts/set_document_urls.py."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "interaction_models" / "skill.json"
SETTINGS = ROOT / "publish.toml"


class SettingsError(ValueError):
    """A deploy setting is missing or wrong; the message says which and what to do."""


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def save_manifest(skill: dict[str, Any], path: Path = MANIFEST) -> None:
    """In the file's own format (2-space indent, UTF-8 as is), so a diff shows only changes."""
    path.write_text(json.dumps(skill, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_settings(path: Path = SETTINGS) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"{path.name} is missing: it holds the deploy settings (README, "
                            f"\"Publish the skill\")")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path.name} is not valid TOML: {e}") from None
