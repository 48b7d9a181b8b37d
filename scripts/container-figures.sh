#!/usr/bin/env bash
# Measure the figures docs/container.md records for an image (default
# bullseye-mock): its size, and over RUNS runs (default 5) the time from
# `docker run` to the first 200 on /healthz through the published port (what
# a test suite waits for) and to the engine's `healthy` (what compose's
# service_healthy waits for; bounded below by the HEALTHCHECK interval).
#
#   scripts/container-figures.sh [IMAGE [RUNS]]
set -euo pipefail
image=${1:-bullseye-mock}
runs=${2:-5}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

size=$(docker image inspect --format '{{.Size}}' "$image")
echo "image $image: $(awk -v s="$size" 'BEGIN { printf "%.1f MB (%d bytes)", s / 1048576, s }')"
echo "machine: $(nproc) cores, $(uname -sr), Docker engine $(docker version --format '{{.Server.Version}}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"

id=
trap '[ -n "$id" ] && docker rm -f "$id" >/dev/null 2>&1' EXIT
for i in $(seq "$runs"); do
	start=$(now)
	id=$(docker run -d -p 127.0.0.1::8080 "$image")
	addr=$(docker port "$id" 8080/tcp | head -n1)
	ready=
	health=
	# Both waits are bounded: 30 s at 20 polls a second.
	for _ in $(seq 600); do
		if [ -z "$ready" ] && curl -fs --max-time 1 "http://$addr/healthz" >/dev/null 2>&1; then
			ready=$(since "$start")
		fi
		if [ -z "$health" ] && [ "$(docker inspect --format '{{.State.Health.Status}}' "$id")" = healthy ]; then
			health=$(since "$start")
		fi
		[ -n "$ready" ] && [ -n "$health" ] && break
		sleep 0.05
	done
	stop_start=$(now)
	docker stop "$id" >/dev/null
	stopped=$(since "$stop_start")
	code=$(docker inspect --format '{{.State.ExitCode}}' "$id")
	docker rm "$id" >/dev/null
	id=
	echo "run $i: /healthz 200 after ${ready:-never}s, healthy after ${health:-never}s, docker stop ${stopped}s (exit $code)"
done
