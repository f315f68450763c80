#!/usr/bin/env bash
# Install Debian's Chromium (and a Japanese font, so ja-JP pages render) for the browser test,
# tests/test_simulator_browser.py. Playwright only drives it: no browser download. Without root or
# sudo, say so and go on: the test then skips outside CI and fails in CI (CI=1).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
packages=()
[ -x "$CHROMIUM" ] || packages+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  packages+=(fonts-ipafont-gothic)
fi
[ ${#packages[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ensure_chromium: ${packages[*]} missing and apt-get needs root; the browser test will not run" >&2
  exit 0
fi
echo "ensure_chromium: installing ${packages[*]} (apt-get) ..." >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
"$CHROMIUM" --version >&2
