#!/usr/bin/env bash
# Make a local Go builder image for the Dockerfile's GO_IMAGE build argument,
# from this machine's Go toolchain and module cache, for machines that cannot
# pull images (this project's CI has a Docker engine but no registry):
#
#   scripts/docker-base.sh                       # makes bullseye-mock-builder:local
#   docker build --build-arg GO_IMAGE=bullseye-mock-builder:local -t bullseye-mock .
#
# Two images, so that only the cheap part is redone when go.mod changes:
#   bullseye-mock-go:<go version>  the toolchain (GOROOT), /bin/sh and its libc,
#                                  the CA bundle; imported once per Go version.
#   bullseye-mock-builder:local    (or $1) the above plus the module download
#                                  cache of this repository's go.mod, with
#                                  GOPROXY=off, so the Dockerfile's
#                                  `go mod download` needs no network.
# Nothing is pulled and the repository stays free of vendored code.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-${BULLSEYE_MOCK_GO_IMAGE:-bullseye-mock-builder:local}}
export PATH="$PATH:/usr/local/go/bin"

goroot=$(go env GOROOT)
goversion=$(go env GOVERSION)
toolchain_tag="bullseye-mock-go:${goversion}"

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

if docker image inspect "$toolchain_tag" >/dev/null 2>&1; then
	echo "docker-base: reusing $toolchain_tag"
else
	echo "docker-base: importing $toolchain_tag from $goroot"
	root="$work/rootfs"
	mkdir -p "$root/tmp" "$root/root" "$root/go" "$root/etc/ssl/certs" "$root/bin"
	chmod 1777 "$root/tmp"
	# The Dockerfile's RUN lines are shell form (they expand ${VERSION}), so
	# the image needs /bin/sh: the host's, with the shared libraries ldd names.
	cp -L /bin/sh "$root/bin/sh"
	for lib in $(ldd /bin/sh | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$root"
	done
	cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	# GOROOT goes in as /usr/local/go, as in the usual Go images, without the
	# parts no build reads (the toolchain's own tests, API lists, docs).
	rel=${goroot#/}
	tar -c -C "$root" . \
		-C / --transform="s,^${rel},usr/local/go," \
		--exclude="${rel}/test" --exclude="${rel}/api" --exclude="${rel}/doc" --exclude="${rel}/misc" \
		"$rel" |
		docker import \
			--change 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/bin:/usr/bin:/bin' \
			--change 'ENV GOPATH=/go' \
			--change 'ENV HOME=/root' \
			--change 'ENV GOTOOLCHAIN=local' \
			--change 'WORKDIR /go' \
			--message "Go ${goversion} from $(hostname) for offline builds" \
			- "$toolchain_tag" >/dev/null
fi

# The module download cache this go.mod needs, fetched from the host's own
# module cache through a file:// proxy: exactly what `go mod download` in the
# Dockerfile will ask for, and nothing else from the host's cache. The host
# cache is filled first (the one step here that may use the network).
(cd "$repo" && go mod download)
hostcache=$(go env GOMODCACHE)
ctx="$work/ctx"
mkdir -p "$ctx"
(
	cd "$repo"
	GOFLAGS=-modcacherw GOMODCACHE="$ctx/mod" GOSUMDB=off \
		GOPROXY="file://$hostcache/cache/download" go mod download
)
mv "$ctx/mod/cache/download" "$ctx/download"
rm -rf "$ctx/mod"
cat >"$ctx/Dockerfile" <<EOF
FROM ${toolchain_tag}
COPY download /go/pkg/mod/cache/download
# Offline: modules come only from the cache above. go.sum still verifies each
# of them; there is no checksum database to ask.
ENV GOPROXY=off GOSUMDB=off
EOF
docker build --force-rm -q -t "$tag" "$ctx" >/dev/null
echo "docker-base: built $tag"
