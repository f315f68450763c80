"""Reading the content files: YAML parsed once, and kept parsed beside them like ``.pyc``.

A cold start (AWS Lambda) should not pay for importing PyYAML and parsing a dozen files. The
parsed data is pickled to ``content/__pycache__/parsed.pickle`` with a fingerprint of every
YAML file's bytes; a cache whose fingerprint does not match is ignored, so an edited file is
always read afresh. Writing the cache is best effort (a read-only deployment ships it built).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE = Path("__pycache__") / "parsed.pickle"


class YamlError(ValueError):
    """A content file is not valid YAML."""


class ContentFiles:
    """The YAML files of one content tree, each parsed at most once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fingerprint = _fingerprint(directory)
        self.cached = _read_cache(directory, self.fingerprint)
        self.parsed: dict[str, Any] = {}

    def load(self, path: Path) -> Any:
        """The data of ``path``; raises FileNotFoundError, UnicodeDecodeError or YamlError."""
        key = path.relative_to(self.directory).as_posix()
        cached = self.cached is not None and key in self.cached
        data = self.cached[key] if cached else _parse(path)
        self.parsed[key] = data
        return data

    def save(self) -> None:
        """Keep what was parsed for the next process (when it was not already cached)."""
        if self.cached is not None and self.parsed.keys() <= self.cached.keys():
            return
        path = self.directory / CACHE
        try:
            path.parent.mkdir(exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}")
            partial.write_bytes(pickle.dumps((self.fingerprint, self.parsed), protocol=5))
            partial.replace(path)
        except OSError as e:  # a read-only tree: the next process parses again
            log.debug("content cache not written: %s", e)


def _parse(path: Path) -> Any:
    import yaml  # only when there is no cache: the import alone costs a cold start ~10 ms

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    with path.open(encoding="utf-8") as f:
        try:
            return yaml.load(f, Loader=loader)
        except yaml.YAMLError as e:
            raise YamlError(str(e)) from None


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _read_cache(directory: Path, fingerprint: str) -> dict[str, Any] | None:
    try:
        stored, parsed = pickle.loads((directory / CACHE).read_bytes())
    except (OSError, ValueError, TypeError, EOFError, pickle.UnpicklingError):
        return None
    return parsed if stored == fingerprint and isinstance(parsed, dict) else None
