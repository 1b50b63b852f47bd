#!/usr/bin/env bash
# Browser tests drive Debian's chromium (test tools cannot download browsers here).
# Installs it, and CJK fonts for legible screenshots, when missing and we are root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium (and fonts-noto-cjk) are needed for browser tests: sudo apt-get install chromium fonts-noto-cjk" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
