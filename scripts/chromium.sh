#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test, once, if it
# is missing: apt-get update and install, about a minute and a half on two
# cores (some 100 MB of packages). Prints the browser's path, nothing (and
# exit 0) if it cannot be installed: the test then skips and says why.
set -uo pipefail
for b in chromium chromium-browser; do
  if p="$(command -v "$b")"; then echo "$p"; exit 0; fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium: not installed, and apt-get as root is not available to install it" >&2
  exit 0
fi
echo "chromium: installing Debian's package (first time: ~2 minutes)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >&2; then
  echo "chromium: apt-get install chromium failed" >&2
  exit 0
fi
command -v chromium || true
