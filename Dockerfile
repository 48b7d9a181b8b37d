# The bullseye-mock image: one static binary on scratch, run as a numeric
# non-root user, healthy when its own `healthcheck` command says so.
#
#   docker build -t bullseye-mock .
#   docker run --rm -p 127.0.0.1:8080:8080 bullseye-mock
#
# Machines that cannot pull images build with a local Go image instead (see
# scripts/docker-base.sh and docs/container.md):
#
#   scripts/docker-base.sh
#   docker build --build-arg GO_IMAGE=bullseye-mock-builder:local -t bullseye-mock .

# The builder is an argument so that offline machines can swap in a local Go
# image; anything with Go, /bin/sh and a CA bundle at the usual path works.
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no libc on scratch), reproducible paths, no symbol tables. The build
# cache is dropped in the same step: no later build starts from this layer, so
# keeping it would only leave a few hundred MB per source change on the engine.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/bullseye-mock/bullseye-mock/cli.Version=${VERSION}" \
      -o /out/bullseye-mock . && \
    go clean -cache
# scratch has no shell, so its directories and account files are made here;
# WORKDIR creates directories without needing mkdir in the builder.
WORKDIR /out/scenarios
WORKDIR /out/etc
# A named account for the numeric user, so tools that map uids show a name.
RUN echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > passwd && \
    echo 'nonroot:x:65532:' > group

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="bullseye-mock" \
      org.opencontainers.image.description="A fake of the Bullseye Partner API that sends signed webhooks" \
      org.opencontainers.image.source="https://github.com/bullseye-mock/bullseye-mock" \
      org.opencontainers.image.version="${VERSION}"
# CA certificates, for webhook targets that use https.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/bullseye-mock /bullseye-mock
# Scenario files are mounted here (docker run -v "$PWD/scenarios:/scenarios:ro");
# the directory exists and belongs to the user so that a named volume mounted
# on it is writable too.
COPY --from=build --chown=65532:65532 /out/scenarios /scenarios
USER 65532:65532
# Inside a container the mock must listen on every interface to be reachable
# through a published port; the healthcheck follows this variable too.
ENV BULLSEYE_MOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
# Probe often enough that `healthy` comes a few seconds after start (engines
# before 25 have no start interval); the probe gives up before Docker kills it.
HEALTHCHECK --interval=3s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/bullseye-mock", "healthcheck", "--deadline=2s"]
ENTRYPOINT ["/bullseye-mock"]
CMD ["serve"]
