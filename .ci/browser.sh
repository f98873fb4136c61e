#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (tests/web/test_browser.py).
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own here.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "Chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
echo "Chromium is missing: installing chromium and chromium-driver from Debian's packages." >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
test -x /usr/bin/chromium || { echo "Chromium did not install at /usr/bin/chromium" >&2; exit 1; }
