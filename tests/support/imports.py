"""What importing a module loads, seen from a fresh interpreter (so nothing another test
imported counts): for the tests that dependencies point inward."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(*modules: str) -> set[str]:
    code = ("import json, sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    return set(json.loads(result.stdout))


def under(modules: set[str], *prefixes: str) -> set[str]:
    """The modules that are one of ``prefixes`` or inside one."""
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)}
