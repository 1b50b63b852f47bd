#!/usr/bin/env bash
# The HTTP benchmarks load the server with wrk (C), which leaves the cores to the server
# under test; bench/lib/wrkload.py falls back to the Python httpload without it.
# Installs Debian's wrk when missing and we are root. The test suite does not need it.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "wrk is needed for the HTTP benchmarks: sudo apt-get install wrk" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq wrk >/dev/null
