"""Reading the content files: YAML parsed once, and kept parsed beside them like ``.pyc``.

A cold start (AWS Lambda) should not pay for importing PyYAML and parsing a dozen files. What
a process parsed is kept in ``content/__pycache__/parsed.<cache tag>.marshal`` (``marshal``, as
``.pyc`` are: nothing to import) together with each file's bytes, and a file is served from it
only while its bytes are exactly those that were parsed: an edited file is always read afresh,
whatever its size or time (no fingerprint to collide, nothing stale). Writing the cache is best
effort; a read-only deployment ships it built (``scripts/package_lambda.py``).
"""

from __future__ import annotations

import logging
import marshal
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE = Path("__pycache__") / f"parsed.{sys.implementation.cache_tag or 'python'}.marshal"
_FORMAT = "knee-routine content 2"  # the cache's own layout; another one is ignored


class YamlError(ValueError):
    """A content file is not valid YAML."""


class ContentFiles:
    """The YAML files of one content tree, each parsed at most once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.cached = _read_cache(directory / CACHE)  # key -> (the file's bytes, its data)
        self.loaded: dict[str, tuple[bytes, Any]] = {}
        self.parsed: list[str] = []  # the files that were not in the cache as they are now

    def load(self, path: Path) -> Any:
        """The data of ``path``; raises FileNotFoundError, UnicodeDecodeError or YamlError."""
        key = path.relative_to(self.directory).as_posix()
        raw = path.read_bytes()
        entry = self.cached.get(key)
        if entry is not None and entry[0] == raw:
            data = entry[1]
        else:
            data = _parse(raw)
            self.parsed.append(key)
        self.loaded[key] = (raw, data)
        return data

    def save(self) -> None:
        """Keep what was loaded for the next process (when the cache did not hold it all)."""
        if not self.parsed and self.loaded.keys() <= self.cached.keys():
            return
        path = self.directory / CACHE
        try:
            payload = marshal.dumps((_FORMAT, self.loaded))
        except ValueError as e:  # a YAML type marshal does not know: parse it every time
            log.debug("content cache not written: %s", e)
            return
        try:
            path.parent.mkdir(exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}")
            partial.write_bytes(payload)
            partial.replace(path)
        except OSError as e:  # a read-only tree: the next process parses again
            log.debug("content cache not written: %s", e)


def _parse(raw: bytes) -> Any:
    import yaml  # only when the cache lacks a file: the import alone costs a cold start ~10 ms

    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as open() reads it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        raise YamlError(str(e)) from None


def _read_cache(path: Path) -> dict[str, tuple[bytes, Any]]:
    """The cache's entries; none when it is missing, of another layout, or damaged."""
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, ValueError, TypeError, EOFError):
        return {}
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == _FORMAT
            and isinstance(stored[1], dict)):
        return {}
    return {key: entry for key, entry in stored[1].items()
            if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], bytes)}
