"""How much of what people say the models understand, measured with the simulator's NLU.

``python -m skill.simulator.nlu_report tests/phrasings`` reads ``<dir>/<locale>.yaml`` (meanings,
each an intent with the phrasings people use, and for steps the step number, for equipment the
value), and prints per meaning and locale the share understood, then every phrasing that failed
with what it was heard as and the closest listed samples. ``make nlu-report`` runs it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skill.alexa.intents import event_for
from skill.content.loader import LOCALES
from skill.simulator.nlu import for_locale


@dataclass(frozen=True)
class Miss:
    text: str
    heard: str | None
    closest: tuple[str, ...]


@dataclass
class Coverage:
    locale: str
    meaning: str
    intent: str
    total: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def understood(self) -> int:
        return self.total - len(self.misses)

    @property
    def share(self) -> float:
        return self.understood / self.total if self.total else 0.0


def load_phrasings(path: Path) -> dict[str, dict[str, Any]]:
    """The meanings of one phrasing file (raises ValueError for a malformed one)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    meanings = data.get("meanings")
    if not isinstance(meanings, dict):
        raise ValueError(f"{path}: expected `meanings:`")
    for name, meaning in meanings.items():
        if not isinstance(meaning, dict) or not isinstance(meaning.get("intent"), str) \
                or not isinstance(meaning.get("say"), list):
            raise ValueError(f"{path}: {name} needs `intent` and a `say` list")
    return meanings


def measure(directory: Path, locales: tuple[str, ...] = LOCALES) -> list[Coverage]:
    """Coverage per meaning, in file order, for every locale with a phrasing file."""
    results = []
    for locale in locales:
        path = directory / f"{locale}.yaml"
        if not path.exists():
            continue
        nlu = for_locale(locale)
        for name, meaning in load_phrasings(path).items():
            coverage = Coverage(locale, name, meaning["intent"])
            for text in meaning["say"]:
                coverage.total += 1
                heard = nlu.understand(str(text), in_session=True)
                if not _means(heard, meaning):
                    coverage.misses.append(Miss(str(text), heard and heard.intent,
                                                heard.closest if heard else ()))
            results.append(coverage)
    return results


def _means(heard: Any, meaning: dict[str, Any]) -> bool:
    """Whether ``heard`` is what ``meaning`` asks for (the intent, and its step or value)."""
    if heard is None or heard.intent != meaning["intent"]:
        return False
    if "step" not in meaning and "equipment" not in meaning:
        return True
    event = event_for(heard.request()["intent"], None, {})
    if "step" in meaning and event.number != meaning["step"]:
        return False
    return "equipment" not in meaning or event.equipment == meaning["equipment"]


def overall(results: list[Coverage], locale: str) -> float:
    mine = [c for c in results if c.locale == locale]
    total = sum(c.total for c in mine)
    return sum(c.understood for c in mine) / total if total else 0.0


def report(results: list[Coverage]) -> str:
    lines = []
    for locale in dict.fromkeys(c.locale for c in results):
        lines.append(f"== {locale}: {overall(results, locale):.1%} understood")
        for c in (c for c in results if c.locale == locale):
            lines.append(f"  {c.meaning:<20} {c.intent:<26} {c.understood:>3}/{c.total:<3} "
                         f"{c.share:6.1%}")
        failures = [(c, m) for c in results if c.locale == locale for m in c.misses]
        if failures:
            lines.append(f"  -- not understood ({len(failures)}):")
        for c, miss in failures:
            near = " | ".join(miss.closest)
            lines.append(f"  {c.meaning}: {miss.text!r} -> {miss.heard}"
                         + (f"  (closest: {near})" if near else ""))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else Path("tests/phrasings")
    try:
        results = measure(directory)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
