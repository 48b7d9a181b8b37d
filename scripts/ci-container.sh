#!/usr/bin/env bash
# CI's container checks beyond `go test ./...` (whose container/ package tests
# the image itself): the compose example end to end, and the testcontainers-go
# example. Offline: every image is built from the local builder that
# scripts/docker-base.sh makes, since this engine cannot pull. Each step is
# bounded in time, and everything made here is removed on exit (the engine's
# build cache is kept, like Go's).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

if ! docker info >/dev/null 2>&1; then
	echo "ci-container: no usable Docker engine; the container checks need one" >&2
	exit 1
fi
# docker-compose comes from Debian's packages on these machines; a fresh one
# may lack it (or curl), so install only what is missing.
missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

suffix=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export GO_IMAGE=bullseye-mock-builder:local
# The version stamp the container tests use too (see buildVersion there): the
# same VERSION build argument lets this build and compose's reuse their layers.
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo container-test)
export VERSION
image="bullseye-mock-ci:$suffix"
project="bullseye-mock-ci-$suffix"
compose=(docker-compose -p "$project" -f examples/compose/docker-compose.yml)

cleanup() {
	"${compose[@]}" down --rmi local --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
	# --no-prune keeps the untagged build steps: the engine's build cache.
	docker rmi --no-prune "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND until it succeeds.
wait_for() {
	local limit=$1 what=$2 start=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - start >= limit)); then
			echo "ci-container: gave up after ${limit}s waiting for $what" >&2
			return 1
		fi
		sleep 0.2
	done
}

echo "--- builder image"
timeout 300 scripts/docker-base.sh "$GO_IMAGE"

echo "--- image"
start=$SECONDS
timeout 600 docker build --force-rm -q --build-arg GO_IMAGE="$GO_IMAGE" --build-arg VERSION="$VERSION" -t "$image" . >/dev/null
echo "built $image in $((SECONDS - start))s, $(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1048576}')"

echo "--- vet the examples (modules of their own, outside go vet ./...)"
(cd examples/compose/receiver && go vet ./...)
(cd examples/testcontainers && go vet ./...)

echo "--- compose example"
# Port 0: the engine picks free host ports, so parallel runs never collide.
MOCK_PORT=0 RECEIVER_PORT=0 timeout 600 "${compose[@]}" up -d --build
mock=$("${compose[@]}" port bullseye-mock 8080)
receiver=$("${compose[@]}" port receiver 9000)
# The receiver answers once it has registered its webhook with the mock.
wait_for 60 "the receiver to register its webhook" curl -fsS "http://$receiver/stats"
curl -fsS --max-time 10 -X POST "http://$mock/api/v1/partner/webhooks/test" \
	-H 'X-Partner-API-Key: compose-example-key' -H 'Content-Type: application/json' \
	-d '{"type": "identification"}'
echo
verified() { curl -fsS --max-time 5 "http://$receiver/stats" | grep -q '"verified":[1-9]'; }
if ! wait_for 30 "a verified delivery at the receiver" verified; then
	"${compose[@]}" logs --tail 50 >&2
	exit 1
fi
echo "receiver: $(curl -fsS "http://$receiver/stats")"
"${compose[@]}" down --rmi local --volumes --remove-orphans --timeout 5

echo "--- testcontainers-go example"
# No reaper: it is an image of its own, and none can be pulled. The host
# override: this machine has a /.dockerenv, so testcontainers would otherwise
# look for the published port on the default gateway, not on loopback.
(cd examples/testcontainers &&
	BULLSEYE_MOCK_IMAGE="$image" TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 go test -count=1 -timeout 5m -v ./...)
