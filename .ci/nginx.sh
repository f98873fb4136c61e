#!/usr/bin/env bash
# Make sure Debian's nginx is installed for the proxy test (tests/ops/test_nginx.py) and `make bench-load`.
# Only the binary is wanted: the tests start their own nginx on loopback, so the package's service is kept
# from starting (a policy-rc.d for the length of the install) and nothing listens on port 80 afterwards.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "nginx is installed: $(/usr/sbin/nginx -v 2>&1)"
  exit 0
fi
echo "nginx is missing: installing it from Debian's packages." >&2
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
test -x /usr/sbin/nginx || { echo "nginx did not install at /usr/sbin/nginx" >&2; exit 1; }
