"""Put the privacy policy and terms of use URLs from publish.toml into the skill manifest.

    python scripts/set_document_urls.py      # make manifest

The documents are docs/privacy-policy.<locale>.md and docs/terms-of-use.<locale>.md; publish
them at https addresses of your own and give those in publish.toml, one pair per locale of the
manifest. A missing, empty or non-https URL stops with a message saying which one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

from skill_manifest import (
    MANIFEST,
    SETTINGS,
    SettingsError,
    load_manifest,
    load_settings,
    save_manifest,
)

KEYS = {"privacy_policy_url": "privacyPolicyUrl", "terms_of_use_url": "termsOfUseUrl"}


def document_urls(settings: dict, locales: list[str]) -> dict[str, dict[str, str]]:
    """``{locale: {"privacyPolicyUrl": ..., "termsOfUseUrl": ...}}``, or SettingsError."""
    documents = settings.get("documents", {})
    urls = {}
    for locale in locales:
        given = documents.get(locale, {})
        urls[locale] = {}
        for key, manifest_key in KEYS.items():
            url = given.get(key) if isinstance(given, dict) else None
            where = f'{SETTINGS.name}: [documents."{locale}"] {key}'
            if not isinstance(url, str) or not url.strip():
                kind = "privacy-policy" if key.startswith("privacy") else "terms-of-use"
                raise SettingsError(f"{where} is not set: publish docs/{kind}.{locale}.md at an "
                                    f"https address and put that address there")
            parts = urlsplit(url.strip())
            if parts.scheme != "https" or not parts.netloc:
                raise SettingsError(f"{where} must be an https URL, not {url!r}")
            urls[locale][manifest_key] = url.strip()
    return urls


def set_document_urls(manifest: Path = MANIFEST, settings: Path = SETTINGS) -> dict:
    skill = load_manifest(manifest)
    locales = sorted(skill["manifest"]["publishingInformation"]["locales"])
    urls = document_urls(load_settings(settings), locales)
    compliance = skill["manifest"].setdefault("privacyAndCompliance", {})
    for locale in locales:
        compliance.setdefault("locales", {}).setdefault(locale, {}).update(urls[locale])
    save_manifest(skill, manifest)
    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=SETTINGS)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    try:
        urls = set_document_urls(args.manifest, args.settings)
    except SettingsError as e:
        print(f"set_document_urls: {e}", file=sys.stderr)
        return 2
    for locale, pair in urls.items():
        print(f"set_document_urls: {locale}: {pair['privacyPolicyUrl']}, {pair['termsOfUseUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
