#!/usr/bin/env bash
# Load-tests the real binary's GET /api/v1/partner/webhooks with wrk and,
# in the same run, a bare net/http server answering the same bytes; prints
# both rates and their ratio. Loopback only; each run is bounded in time.
#
#   scripts/bench-api.sh [duration=10s] [connections=32] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
conns=${2:-32}
rounds=${3:-3}

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
tmp=$(mktemp -d)
# start runs in a command substitution (a subshell), so the servers' pids go
# to a file: an array set there would be lost, and the servers left running.
cleanup() {
  [ -f "$tmp/pids" ] && while read -r p; do kill "$p" 2>/dev/null || true; done <"$tmp/pids"
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/mock" .
go build -o "$tmp/bare" ./scripts/benchapi

# start CMD... : runs CMD in the background and echoes the URL from its first line.
start() {
  "$@" >"$tmp/out.$$" 2>/dev/null &
  echo $! >>"$tmp/pids"
  for _ in $(seq 100); do
    url=$(head -n1 "$tmp/out.$$" 2>/dev/null | grep -o 'http://[0-9.:]*' || true)
    [ -n "$url" ] && { echo "$url"; return; }
    read -r -t 0.05 <> <(:) || true
  done
  echo "server did not start: $*" >&2; exit 1
}

key=bench-key
mock=$(start "$tmp/mock" --addr 127.0.0.1:0 --api-key "$key" --rate-limit 1000000000)
curl -fsS -X PUT "$mock/api/v1/partner/webhooks/identification" -H "X-Partner-API-Key: $key" \
  -d '{"url": "https://example.com/webhooks/identify", "secret": "s", "enabled": true}' >/dev/null
curl -fsS -D "$tmp/headers.txt" "$mock/api/v1/partner/webhooks" -H "X-Partner-API-Key: $key" >"$tmp/body.json"
# The same body and the same headers (the vendor's X-RateLimit-* included):
# what differs is the work behind them.
bare=$(start "$tmp/bare" --body "$tmp/body.json" --headers "$tmp/headers.txt")

rate() { wrk -t2 -c"$conns" -d"$duration" -H "X-Partner-API-Key: $key" "$1/api/v1/partner/webhooks" | awk '/Requests\/sec/ {print $2}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
echo "wrk -t2 -c$conns -d$duration, $rounds rounds, alternating"
for i in $(seq "$rounds"); do
  b=$(rate "$bare"); m=$(rate "$mock")
  awk -v b="$b" -v m="$m" -v i="$i" 'BEGIN { printf "round %d: bare %.0f req/s, mock %.0f req/s, ratio %.3f\n", i, b, m, m / b }'
done
