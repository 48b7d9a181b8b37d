#!/usr/bin/env bash
# Compares `bullseye-mock send` (the in-process webhook sender) with vegeta
# against the same loopback receiver (scripts/benchrecv), in one run,
# alternating which tool goes first each round:
#
#   rate1k, rate5k  --rate N/s for SECS seconds' worth vs vegeta -rate N/s -duration SECS:
#                   achieved rate / target, success, p50/p99
#   max             all due at once (bm send --count MAX_COUNT, no --rate; the sender
#                   holds 64 attempts in flight per receiver host) vs vegeta -rate 0
#                   with CONC workers for MAX_SECS: deliveries/s and the ratio
#   latency         LAT_RATE/s against a receiver answering after a known delay mix:
#                   p50/p90/p99 of both
#
# vegeta posts the bytes of one payload the mock sent (captured by the receiver)
# with the same headers and a signature from `bullseye-mock sign`. Loopback only;
# every step is bounded by a count or a duration and by `timeout`; servers are
# killed on exit.
#
#   scripts/bench-send.sh [rounds=3]
#
# Knobs (environment): TESTS="rate max latency" (a subset runs only those) SECS=5
# MAX_COUNT=50000 MAX_SECS=5 CONC=64 LAT_RATE=500 LAT_SECS=10
# DIST=80%2ms-8ms,15%15ms-25ms,5%40ms-60ms
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${SECS:-5}
max_count=${MAX_COUNT:-50000}
max_secs=${MAX_SECS:-5}
conc=${CONC:-64}
lat_rate=${LAT_RATE:-500}
lat_secs=${LAT_SECS:-10}
dist=${DIST:-80%2ms-8ms,15%15ms-25ms,5%40ms-60ms}
tests=" ${TESTS:-rate max latency} "
secret=whsec_bench
step_timeout=$((2 * (secs > lat_secs ? secs : lat_secs) + 60))

if ! command -v jq >/dev/null; then
  apt-get update -qq && apt-get install -y -qq jq >/dev/null
fi
tmp=$(mktemp -d)
# start runs in a command substitution (a subshell), so the servers' pids go to a file.
cleanup() {
  [ -f "$tmp/pids" ] && while read -r p; do kill "$p" 2>/dev/null || true; done <"$tmp/pids"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rev="$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo +dirty)"
go build -o "$tmp/mock" .
go build -o "$tmp/recv" ./scripts/benchrecv
GOBIN="$tmp" go install github.com/tsenart/vegeta/v12@v12.13.0
mock="$tmp/mock"
vegeta="$tmp/vegeta"

# start NAME CMD... : runs CMD in the background and echoes the URL from its first line.
start() {
  local name=$1
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  echo $! >>"$tmp/pids"
  for _ in $(seq 100); do
    url=$(head -n1 "$tmp/$name.out" 2>/dev/null | grep -o 'http://[0-9.:]*/[a-z]*' || true)
    [ -n "$url" ] && { echo "$url"; return; }
    sleep 0.05
  done
  echo "server did not start: $*" >&2
  exit 1
}

fast=$(start fast "$tmp/recv" --dump "$tmp/dump")
slow=$(start slow "$tmp/recv" --delay-dist "$dist" --seed 1)

# One realistic payload, as the mock sends it, and its signature.
timeout 30 "$mock" send --url "$fast" --secret "$secret" --count 1 --report json >/dev/null 2>&1
body="$tmp/dump/body.json"
sig=$("$mock" sign --secret "$secret" "$body")
grep -qi "^X-Bullseye-Signature: $sig\$" "$tmp/dump/headers.txt" ||
  { echo "bm sign disagrees with the signature the mock sent" >&2; exit 1; }
ua=$(grep -i '^User-Agent:' "$tmp/dump/headers.txt" | cut -d' ' -f2-)
for t in fast slow; do
  url=${!t}
  printf 'POST %s\nContent-Type: application/json\nUser-Agent: %s\nX-Bullseye-Signature: %s\nX-Bullseye-Mock-Delivery: 00000000-0000-4000-8000-000000000000\nX-Bullseye-Mock-Attempt: 1\n@%s\n' \
    "$url" "$ua" "$sig" "$body" >"$tmp/targets.$t"
done

machine() { echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(go version | cut -d' ' -f3-); mock built at $rev; $(date -u '+%F %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
machine
echo "payload: $(wc -c <"$body") bytes; $rounds rounds, alternating; rates ${secs}s each, max: mock --count $max_count vs vegeta ${max_secs}s at $conc workers; latency: ${lat_rate}/s for ${lat_secs}s, delays $dist"

res="$tmp/results" # test tool round rate target success p50 p90 p99 throughput cpu_us extra
: >"$res"
TIMEFORMAT='%U %S' # bash's time: user and system CPU seconds of the timed command and its children

# cpu_us FILE REQUESTS: CPU microseconds per request from a `time` line.
cpu_us() { awk -v n="$2" '{ printf "%.1f", (n > 0) ? ($1 + $2) * 1e6 / n : 0 }' "$1"; }

# run_mock TEST URL TARGET_RATE COUNT [RATE]: one `bm send`, one result line.
run_mock() {
  local test=$1 url=$2 target=$3 count=$4 rate=${5:-} t0 t1
  local args=(send --url "$url" --secret "$secret" --count "$count" --report json --progress never)
  [ -n "$rate" ] && args+=(--rate "$rate")
  t0=$(date +%s.%N)
  { time timeout "$step_timeout" "$mock" "${args[@]}" 2>/dev/null >"$tmp/m.json" || true; } 2>"$tmp/cpu"
  t1=$(date +%s.%N)
  jq -r --arg test "$test" --arg round "$round" --arg target "$target" --arg wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    --arg n "$count" --arg cpu "$(cpu_us "$tmp/cpu" "$count")" \
    '[$test, "mock", $round, .firstAttempts.rate, $target, .success, .latencyMs.p50, .latencyMs.p90, .latencyMs.p99, .throughput, $cpu,
      "late=\(.late.count) lateP99=\(.late.p99Ms)ms wall=\(($n|tonumber) / ($wall|tonumber) | floor)/s"] | @tsv' "$tmp/m.json" >>"$res"
}

# run_vegeta TEST TARGETS TARGET_RATE DURATION RATE [vegeta flags]: one attack.
# Its rate is taken as (requests-1)/(last start - first start), as the mock counts it.
run_vegeta() {
  local test=$1 targets=$2 target=$3 dur=$4 rate=$5 n
  shift 5
  { time timeout "$step_timeout" "$vegeta" attack -targets "$targets" -rate "$rate" -duration "$dur" "$@" >"$tmp/v.bin" || true; } 2>"$tmp/cpu"
  "$vegeta" report -type json <"$tmp/v.bin" >"$tmp/v.json"
  n=$(jq .requests "$tmp/v.json")
  jq -r --arg test "$test" --arg round "$round" --arg target "$target" --arg cpu "$(cpu_us "$tmp/cpu" "$n")" \
    '[$test, "vegeta", $round, ((.requests - 1) / .duration * 1e9 * 1e4 | round / 1e4), $target, .success,
      (.latencies["50th"], .latencies["90th"], .latencies["99th"] | . / 1e6), .throughput, $cpu, "requests=\(.requests)"] | @tsv' "$tmp/v.json" >>"$res"
}

for round in $(seq "$rounds"); do
  if ((round % 2)); then order="mock vegeta"; else order="vegeta mock"; fi
  [[ $tests == *" rate "* ]] && for tool in $order; do
    for r in 1000 5000; do
      if [ "$tool" = mock ]; then run_mock "rate$((r / 1000))k" "$fast" "$r" $((r * secs)) "$r/s"
      else run_vegeta "rate$((r / 1000))k" "$tmp/targets.fast" "$r" "${secs}s" "$r/s"; fi
    done
  done
  [[ $tests == *" max "* ]] && for tool in $order; do
    if [ "$tool" = mock ]; then run_mock max "$fast" 0 "$max_count"
    else run_vegeta max "$tmp/targets.fast" 0 "${max_secs}s" 0 -workers "$conc" -max-workers "$conc"; fi
  done
  [[ $tests == *" latency "* ]] && for tool in $order; do
    if [ "$tool" = mock ]; then run_mock latency "$slow" "$lat_rate" $((lat_rate * lat_secs)) "$lat_rate/s"
    else run_vegeta latency "$tmp/targets.slow" "$lat_rate" "${lat_secs}s" "$lat_rate/s"; fi
  done
  echo "round $round done ($order first); load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "per round (rate: attempts started/s, (n-1)/span; latencies ms; throughput: 2xx/s to the last answer; cpu: µs of CPU per request, user+system):"
awk -F'\t' 'BEGIN { printf "%-8s %-6s %5s %11s %7s %8s %8s %8s %8s %11s %7s  %s\n", "test", "tool", "round", "rate", "target", "success", "p50", "p90", "p99", "throughput", "cpu", "" }
  { printf "%-8s %-6s %5s %11.2f %7s %8.4f %8.3f %8.3f %8.3f %11.1f %7.1f  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$res"

echo
echo "medians over $rounds rounds (ratio = mock / vegeta; rate/target for the rate tests):"
awk -F'\t' '
  function median(key,   n, i, j, t, a) {
    n = split(vals[key], a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { tests[$1] = 1; target[$1] = $5
    split("rate success p50 p90 p99 throughput cpu_us", f, " "); split("4 6 7 8 9 10 11", col, " ")
    for (k = 1; k <= 7; k++) { key = $1 SUBSEP $2 SUBSEP f[k]; vals[key] = vals[key] " " $(col[k]) } }
  END {
    split("rate1k rate5k max latency", order, " ")
    printf "%-8s %-14s %12s %12s %8s\n", "test", "figure", "mock", "vegeta", "ratio"
    for (o = 1; o <= 4; o++) {
      t = order[o]; if (!(t in tests)) continue
      n = split(t == "max" ? "throughput p50 p99 cpu_us" : (t == "latency" ? "p50 p90 p99 success" : "rate success p50 p99 cpu_us"), fs, " ")
      for (k = 1; k <= n; k++) {
        m = median(t SUBSEP "mock" SUBSEP fs[k]); v = median(t SUBSEP "vegeta" SUBSEP fs[k])
        printf "%-8s %-14s %12.3f %12.3f %8.3f\n", t, fs[k], m, v, v != 0 ? m / v : 0
        if (fs[k] == "rate")
          printf "%-8s %-14s %12.4f %12.4f\n", t, "rate/target", m / target[t], v / target[t]
      }
    }
  }' "$res"
echo
echo "max, per round (the tools ran back to back; a ratio within a round cancels slow drifts in load):"
awk -F'\t' '$1 == "max" { t[$3, $2] = $10; r[$3] = 1 }
  END { for (i = 1; i in r; i++) { x = t[i, "vegeta"] > 0 ? t[i, "mock"] / t[i, "vegeta"] : 0; printf "round %d: mock %.0f/s, vegeta %.0f/s, ratio %.3f\n", i, t[i, "mock"], t[i, "vegeta"], x; a[i] = x; n = i }
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { x = a[j]; a[j] = a[j-1]; a[j-1] = x }
    if (n) printf "median of the per-round ratios: %.3f (range %.3f-%.3f)\n", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2, a[1], a[n] }' "$res"
echo
machine
