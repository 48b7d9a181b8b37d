#!/usr/bin/env bash
# Remakes the inspector's screenshots in docs/img from a mock in a known
# state (server's TestUIScreenshots, which CI runs into a temporary
# directory). Needs Chromium (Debian: apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
BULLSEYE_MOCK_SCREENSHOTS="$PWD/docs/img" go test -count=1 -run '^TestUIScreenshots$' ./server
ls -l docs/img/inspector-*.png
