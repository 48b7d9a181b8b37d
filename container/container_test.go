// Package container tests the Docker image built from the repository's
// Dockerfile with the Docker engine of the machine: an image that was never
// built and run is a guess.
//
// The tests build the image offline, with a builder made from this machine's
// Go toolchain by scripts/docker-base.sh (or the image named by
// BULLSEYE_MOCK_GO_IMAGE), run it with a random published port on loopback,
// and exercise it from outside (published ports, docker inspect, docker top),
// since a scratch image has no shell to run checks inside. They skip, saying
// why, where there is no engine or with -short.
//
// Every container, network and image tag they make carries a random name and
// is removed when the test ends; the engine's build cache is kept, like Go's.
package container

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

const (
	apiKey = "container-test-key"
	// secret is the webhook secret the tests configure and the receiver
	// checks signatures with.
	secret = "whsec_container_test"
	// receiverAlias is the receiver's name on the test network: the mock
	// reaches it by this service name, as in a compose file.
	receiverAlias = "receiver"
	receiverURL   = "http://" + receiverAlias + ":9000/webhooks/bullseye"

	// maxImageBytes is the size the image must stay under (the aim).
	maxImageBytes = 20 << 20
	// nonRootUID is the Dockerfile's USER.
	nonRootUID = 65532

	buildTimeout  = 8 * time.Minute // a cold build on two shared cores takes 2-3 minutes
	healthTimeout = 30 * time.Second
	dockerTimeout = time.Minute // any single docker command but build
)

// images are the tags built for one test run.
type images struct {
	mock, receiver, version string
}

func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("container tests build and run Docker images; skipped with -short")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no usable Docker engine (docker info: %v: %s); the container tests need one", err, bytes.TrimSpace(out))
	}
	img := buildImages(t)

	t.Run("config", func(t *testing.T) { testConfig(t, img) })
	t.Run("version", func(t *testing.T) {
		out := docker(t, dockerTimeout, "run", "--rm", img.mock, "version")
		if want := "bullseye-mock " + img.version; strings.TrimSpace(out) != want {
			t.Errorf("version printed %q, want %q (the -ldflags -X stamp)", strings.TrimSpace(out), want)
		}
	})
	t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, img) })
	t.Run("scenario", func(t *testing.T) { testScenario(t, img) })
}

// testConfig checks what the image promises without running it: a numeric
// non-root user, the listen address, the port, the healthcheck, the size, and
// the files of the scratch filesystem (read with docker cp, which needs no
// shell in the image).
func testConfig(t *testing.T, img images) {
	var inspect []struct {
		Size   int64
		Config struct {
			User         string
			Env          []string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Cmd          []string
			Healthcheck  *struct{ Test []string }
			Labels       map[string]string
		}
	}
	if err := json.Unmarshal([]byte(docker(t, dockerTimeout, "image", "inspect", img.mock)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("docker image inspect: %v (%d images)", err, len(inspect))
	}
	c := inspect[0].Config
	uid, gid, ok := strings.Cut(c.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 || !ok {
		t.Errorf("USER is %q, want numeric non-root uid:gid", c.User)
	} else if g, err := strconv.Atoi(gid); err != nil || g == 0 {
		t.Errorf("USER is %q, want a numeric non-root group", c.User)
	}
	if !slices.Contains(c.Env, "BULLSEYE_MOCK_ADDR=0.0.0.0:8080") {
		t.Errorf("Env = %q, want BULLSEYE_MOCK_ADDR=0.0.0.0:8080 so published ports reach the mock", c.Env)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", c.ExposedPorts)
	}
	if got := strings.Join(c.Entrypoint, " ") + " | " + strings.Join(c.Cmd, " "); got != "/bullseye-mock | serve" {
		t.Errorf("ENTRYPOINT | CMD = %q, want /bullseye-mock | serve", got)
	}
	if c.Healthcheck == nil || len(c.Healthcheck.Test) < 3 || c.Healthcheck.Test[0] != "CMD" ||
		c.Healthcheck.Test[1] != "/bullseye-mock" || c.Healthcheck.Test[2] != "healthcheck" {
		t.Errorf("HEALTHCHECK = %+v, want CMD /bullseye-mock healthcheck", c.Healthcheck)
	}
	if got := c.Labels["org.opencontainers.image.version"]; got != img.version {
		t.Errorf("version label = %q, want %q", got, img.version)
	}
	if size := inspect[0].Size; size >= maxImageBytes {
		t.Errorf("image is %.1f MB, want under %d MB", float64(size)/(1<<20), maxImageBytes>>20)
	} else {
		t.Logf("image size %.1f MB", float64(size)/(1<<20))
	}

	// The filesystem: a created (never started) container's files, as tar.
	id := strings.TrimSpace(docker(t, dockerTimeout, "create", "--label", "bullseye-mock.test=container", img.mock))
	t.Cleanup(func() { dockerQuiet("rm", "-f", id) })
	for path, want := range map[string]func(*tar.Header) error{
		"/scenarios": func(h *tar.Header) error {
			if h.Typeflag != tar.TypeDir || h.Uid != nonRootUID || h.Gid != nonRootUID {
				return fmt.Errorf("type %c owner %d:%d, want a directory owned by %d:%d", h.Typeflag, h.Uid, h.Gid, nonRootUID, nonRootUID)
			}
			return nil
		},
		"/etc/ssl/certs/ca-certificates.crt": func(h *tar.Header) error {
			if h.Size < 1000 {
				return fmt.Errorf("%d bytes, want a CA bundle", h.Size)
			}
			return nil
		},
		"/etc/passwd": func(*tar.Header) error { return nil },
	} {
		out := docker(t, dockerTimeout, "cp", id+":"+path, "-")
		h, err := tar.NewReader(strings.NewReader(out)).Next()
		if err == nil {
			err = want(h)
		}
		if err != nil {
			t.Errorf("%s in the image: %v", path, err)
		}
	}
}

// testLifecycle runs the image the way a test suite does: start it, wait for
// the engine to call it healthy, configure a webhook through the published
// port, receive signed deliveries in a second container that the mock reaches
// by service name, and stop it with SIGTERM.
func testLifecycle(t *testing.T, img images) {
	network := newNetwork(t)
	recv := runContainer(t, "receiver", "--network", network, "--network-alias", receiverAlias,
		"-e", "RECEIVER_SECRET="+secret, "-p", "127.0.0.1::9000", img.receiver)
	start := time.Now()
	mock := runContainer(t, "mock", "--network", network, "--network-alias", "bullseye-mock",
		"-e", "BULLSEYE_MOCK_API_KEY="+apiKey, "-p", "127.0.0.1::8080", img.mock)
	waitHealthy(t, mock)
	t.Logf("mock healthy %v after docker run returned", time.Since(start).Round(10*time.Millisecond))
	waitHealthy(t, recv)

	// The first line says where it listens: the user-facing contract.
	if first, _, _ := strings.Cut(docker(t, dockerTimeout, "logs", mock), "\n"); !strings.HasPrefix(first, "bullseye-mock listening on http://") {
		t.Errorf("first stdout line %q, want bullseye-mock listening on http://...", first)
	}
	// The process is not root: docker top reads it from the host's side.
	if uid := topUID(t, mock); uid != strconv.Itoa(nonRootUID) {
		t.Errorf("the mock runs as uid %s, want %d", uid, nonRootUID)
	}

	api := "http://" + hostPort(t, mock, "8080/tcp") + "/api/v1/partner/webhooks"
	call(t, http.MethodPut, api+"/identification", fmt.Sprintf(`{"url": %q, "secret": %q, "enabled": true}`, receiverURL, secret))
	const sends = 3
	for range sends {
		call(t, http.MethodPost, api+"/test", `{"type": "identification"}`)
	}

	// Deliveries are asynchronous: read the receiver until it has them all.
	recvURL := "http://" + hostPort(t, recv, "9000/tcp") + "/deliveries"
	var got []struct {
		Path      string `json:"path"`
		Verified  bool   `json:"verified"`
		Signature string `json:"signature"`
		EventType string `json:"event_type"`
	}
	if err := getJSON(recvURL+"?atLeast="+strconv.Itoa(sends)+"&timeout=30s", &got); err != nil || len(got) < sends {
		t.Fatalf("the receiver got %d of %d deliveries (%v); mock logs:\n%s", len(got), sends, err, containerLogs(mock))
	}
	for i, d := range got {
		if !d.Verified || d.Path != "/webhooks/bullseye" {
			t.Errorf("delivery %d: path %s, signature %q verified=%t; want %s with a valid signature", i, d.Path, d.Signature, d.Verified, "/webhooks/bullseye")
		}
		if d.EventType == "" {
			t.Errorf("delivery %d names no event type", i)
		}
	}
	// The mock's delivery log agrees, through the Partner API.
	var logs struct {
		Logs []struct {
			Status     string `json:"status"`
			StatusCode int    `json:"statusCode"`
			URL        string `json:"url"`
		} `json:"logs"`
	}
	// Wait until the mock has settled every delivery, then read its log once.
	mockURL := "http://" + hostPort(t, mock, "8080/tcp")
	var waited struct {
		TimedOut bool `json:"timedOut"`
	}
	if err := getJSON(mockURL+"/_mock/deliveries/wait?timeout=10s", &waited); err != nil || waited.TimedOut {
		t.Fatalf("the mock's deliveries did not settle (%v, timed out %t)", err, waited.TimedOut)
	}
	if err := getJSON(api+"/logs", &logs); err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for _, l := range logs.Logs {
		if l.Status == bullseye.StatusDelivered && l.URL == receiverURL {
			delivered++
		}
	}
	if delivered < sends {
		t.Errorf("the delivery log records %d delivered attempts to %s, want %d: %+v", delivered, receiverURL, sends, logs.Logs)
	}

	// SIGTERM (docker stop) ends it cleanly: a SIGKILL after the grace
	// period would show as exit code 137, not 0.
	docker(t, dockerTimeout, "stop", "--time", "10", mock)
	if code := strings.TrimSpace(docker(t, dockerTimeout, "inspect", "--format", "{{.State.ExitCode}}", mock)); code != "0" {
		t.Errorf("exit code after SIGTERM = %s, want 0; logs:\n%s", code, containerLogs(mock))
	}
}

// testScenario mounts testdata/scenarios at the image's /scenarios, read-only,
// and runs smoke.yaml at start: its one event must reach the receiver signed
// with the scenario's secret. An image whose serve has no --scenario flag
// (built from a tree before that flag) skips, saying so.
func testScenario(t *testing.T, img images) {
	help := docker(t, dockerTimeout, "run", "--rm", img.mock, "serve", "--help")
	if !strings.Contains(help, "--scenario") {
		t.Skip("serve --help lists no --scenario flag yet, so no scenario can run at start; " +
			"the image already provides /scenarios (owned by the image's user) for mounting them")
	}
	// The file configures the webhook as receiverURL with secret.
	dir, err := filepath.Abs(filepath.Join("testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	const file = "smoke.yaml"
	network := newNetwork(t)
	recv := runContainer(t, "receiver", "--network", network, "--network-alias", receiverAlias,
		"-e", "RECEIVER_SECRET="+secret, "-p", "127.0.0.1::9000", img.receiver)
	waitHealthy(t, recv)
	mock := runContainer(t, "mock", "--network", network, "-v", dir+":/scenarios:ro",
		"-e", "BULLSEYE_MOCK_API_KEY="+apiKey, "-p", "127.0.0.1::8080", img.mock, "serve", "--scenario", "/scenarios/"+file)
	waitHealthy(t, mock)
	recvURL := "http://" + hostPort(t, recv, "9000/tcp") + "/deliveries"
	var got []struct {
		Verified bool `json:"verified"`
	}
	if err := getJSON(recvURL+"?atLeast=1&timeout=30s", &got); err != nil || len(got) == 0 {
		t.Fatalf("the mounted scenario's delivery did not arrive (%v); mock logs:\n%s", err, containerLogs(mock))
	}
	if !got[0].Verified {
		t.Errorf("the scenario's delivery has a bad signature")
	}
	if logs := containerLogs(mock); strings.Contains(logs, "scenario stopped") {
		t.Errorf("the scenario stopped early; logs:\n%s", logs)
	}
}

// buildImages builds the mock's image offline and the receiver's image, and
// removes their tags when the test ends.
func buildImages(t *testing.T) images {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomSuffix(t)
	img := images{
		mock:     "bullseye-mock-test:" + suffix,
		receiver: "bullseye-mock-test-receiver:" + suffix,
		version:  buildVersion(root),
	}

	goImage := os.Getenv("BULLSEYE_MOCK_GO_IMAGE")
	if goImage == "" {
		goImage = "bullseye-mock-builder:local"
		runLogged(t, buildTimeout, exec.Command("bash", filepath.Join(root, "scripts", "docker-base.sh"), goImage))
	}
	start := time.Now()
	// --no-prune on removal keeps the untagged build steps: they are the
	// engine's build cache, which later builds (compose, CI) reuse.
	t.Cleanup(func() { dockerQuiet("rmi", "--no-prune", img.mock) })
	runLogged(t, buildTimeout, exec.Command("docker", "build", "--force-rm",
		"--build-arg", "GO_IMAGE="+goImage, "--build-arg", "VERSION="+img.version, "-t", img.mock, root))
	t.Logf("built %s in %v", img.mock, time.Since(start).Round(time.Second))

	// The receiver: a static binary built here, on scratch; no base image.
	dir := t.TempDir()
	gobuild := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "receiver"), "./testdata/receiver")
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0")
	runLogged(t, buildTimeout, gobuild)
	dockerfile := `FROM scratch
COPY receiver /receiver
USER 65532:65532
EXPOSE 9000
HEALTHCHECK --interval=1s --timeout=3s --retries=30 CMD ["/receiver", "-healthcheck"]
ENTRYPOINT ["/receiver"]
`
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dockerQuiet("rmi", img.receiver) })
	runLogged(t, buildTimeout, exec.Command("docker", "build", "--force-rm", "-q", "-t", img.receiver, dir))
	return img
}

// buildVersion is the version to stamp: the one scripts/ci-container.sh
// stamps too, because a different VERSION build argument would make the
// engine rebuild the binary instead of reusing this build's layers. It is
// never "dev", the unstamped default, so the stamp is seen to work.
func buildVersion(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" && v != "dev" {
		return v
	}
	return "container-test"
}

// runContainer starts a detached container with a random name and removes
// it, with its logs shown if the test failed, when the test ends.
func runContainer(t *testing.T, role string, args ...string) string {
	t.Helper()
	name := "bullseye-mock-test-" + role + "-" + randomSuffix(t)
	runArgs := append([]string{"run", "-d", "--name", name, "--label", "bullseye-mock.test=" + role}, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of %s (%s):\n%s", role, name, tail(containerLogs(name), 50))
		}
		dockerQuiet("rm", "-f", name)
	})
	docker(t, dockerTimeout, runArgs...)
	return name
}

// newNetwork makes a user-defined bridge network, where containers find
// each other by name, and removes it when the test ends (after the
// containers on it: cleanups run last-in first-out).
func newNetwork(t *testing.T) string {
	t.Helper()
	name := "bullseye-mock-test-" + randomSuffix(t)
	docker(t, dockerTimeout, "network", "create", "--label", "bullseye-mock.test=network", name)
	t.Cleanup(func() { dockerQuiet("network", "rm", name) })
	return name
}

// waitHealthy waits for the engine's own health_status event, reading the
// container's event stream from its creation (so an event that came before
// the call is not missed), and fails early if it dies or turns unhealthy.
func waitHealthy(t *testing.T, id string) {
	t.Helper()
	created := strings.TrimSpace(docker(t, dockerTimeout, "inspect", "--format", "{{.Created}}", id))
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "events", "--since", created,
		"--filter", "container="+id, "--format", "{{.Status}}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	events := bufio.NewScanner(out)
	for events.Scan() {
		switch ev := strings.TrimSpace(events.Text()); ev {
		case "health_status: healthy":
			return
		case "health_status: unhealthy", "die":
			t.Fatalf("%s: %s; logs:\n%s", id, ev, containerLogs(id))
		}
	}
	t.Fatalf("gave up after %v waiting for %s to be healthy; logs:\n%s", healthTimeout, id, containerLogs(id))
}

// hostPort is the loopback address that the engine published port on.
func hostPort(t *testing.T, id, port string) string {
	t.Helper()
	// One line per published address; with -p 127.0.0.1:: there is one.
	out := strings.TrimSpace(docker(t, dockerTimeout, "port", id, port))
	addr, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("docker port %s %s = %q, want a loopback address", id, port, out)
	}
	return addr
}

// topUID is the uid of the container's first process, as the host sees it.
func topUID(t *testing.T, id string) string {
	t.Helper()
	// The engine needs the pid column to map host processes to the container.
	lines := strings.Split(strings.TrimSpace(docker(t, dockerTimeout, "top", id, "-o", "pid,uid")), "\n")
	if len(lines) < 2 || len(strings.Fields(lines[1])) != 2 {
		t.Fatalf("docker top %s printed no process: %q", id, lines)
	}
	return strings.Fields(lines[1])[1]
}

// client bounds every request; the longest are the 30 s long-polls.
var client = &http.Client{Timeout: 45 * time.Second}

// call sends a Partner API request and fails the test unless it answers 200.
func call(t *testing.T, method, url, body string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Partner-API-Key", apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s answered %d: %s", method, url, resp.StatusCode, b)
	}
}

func getJSON(url string, v any) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Partner-API-Key", apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// docker runs one docker command with a deadline and returns its stdout.
func docker(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer in %v", timeout)
		}
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String()
}

// containerLogs is a container's stdout and stderr (the mock logs on
// stderr), for failure messages.
func containerLogs(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "logs", id).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs %s: %v) %s", id, err, out)
	}
	return string(out)
}

// dockerQuiet is for cleanups: what it removes may already be gone.
func dockerQuiet(args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	_ = exec.CommandContext(ctx, "docker", args...).Run()
}

// runLogged runs a long command (a build) with a deadline, showing its
// output only when it fails.
func runLogged(t *testing.T, timeout time.Duration, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, tail(out.String(), 60))
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s: no result in %v\n%s", cmd, timeout, tail(out.String(), 60))
	}
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
