// Package example shows a Go test suite starting bullseye-mock's image with
// testcontainers-go, then configuring a webhook through the Partner API the
// way the application under test would.
//
// Build the image first (docker build -t bullseye-mock ../..), then:
//
//	go test ./...
//
// Where no image can be pulled (as in this project's CI), disable the reaper,
// which is an image of its own: TESTCONTAINERS_RYUK_DISABLED=true go test ./...
// The containers are still removed, by CleanupContainer.
//
// The port is published on the engine host's loopback only. testcontainers
// reaches a local engine's ports on localhost, except where it believes it
// runs inside a container (a /.dockerenv file, as on this project's CI
// machines): there it tries the default gateway, so set
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1. A test job that really runs in a
// container beside the engine should drop the loopback binding instead.
package example

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

const apiKey = "example-key"

// mockImage is the image to start: BULLSEYE_MOCK_IMAGE, or the tag the
// README's docker build gives.
func mockImage() string {
	if img := os.Getenv("BULLSEYE_MOCK_IMAGE"); img != "" {
		return img
	}
	return "bullseye-mock"
}

// startMock starts the mock for one test and returns its Partner API base
// URL (what production code has as https://api.app.bullseye.so/api/v1).
func startMock(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	port := network.MustParsePort("8080/tcp")
	ctr, err := testcontainers.Run(ctx, mockImage(),
		testcontainers.WithExposedPorts(port.String()),
		testcontainers.WithEnv(map[string]string{"BULLSEYE_MOCK_API_KEY": apiKey}),
		// Publish on loopback only: the mock has a known key and sends
		// webhooks wherever it is told, so it should not face the network.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}}
		}),
		// /healthz answers 200 once the mock serves; the first start of an
		// image on a busy machine takes a few seconds.
		testcontainers.WithWaitStrategy(wait.ForHTTP("/healthz").WithPort(port.String()).
			WithForcedIPv4LocalHost().WithStartupTimeout(30*time.Second)),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("starting %s: %v", mockImage(), err)
	}
	endpoint, err := ctr.PortEndpoint(ctx, port.String(), "http")
	if err != nil {
		t.Fatal(err)
	}
	// The host may be "localhost", which can resolve to ::1 first; the port is on 127.0.0.1.
	return strings.Replace(endpoint, "localhost", "127.0.0.1", 1) + "/api/v1"
}

func TestConfigureWebhook(t *testing.T) {
	// Only because this example also runs in the mock's own CI, where the
	// image may not have been built; a real suite would just start it.
	if err := exec.Command("docker", "image", "inspect", mockImage()).Run(); err != nil {
		t.Skipf("no image %s here (docker build -t %s first): %v", mockImage(), mockImage(), err)
	}
	api := startMock(t)

	body := `{"url": "https://app.example.test/webhooks/bullseye", "secret": "whsec_example", "enabled": true}`
	req, err := http.NewRequest(http.MethodPut, api+"/partner/webhooks/identification", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Partner-API-Key", apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT identification webhook: %s", resp.Status)
	}

	req, _ = http.NewRequest(http.MethodGet, api+"/partner/webhooks", nil)
	req.Header.Set("X-Partner-API-Key", apiKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hooks struct {
		Identification struct {
			URL       string `json:"url"`
			Enabled   bool   `json:"enabled"`
			HasSecret bool   `json:"hasSecret"`
		} `json:"identification"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&hooks); err != nil {
		t.Fatal(err)
	}
	if got := hooks.Identification; got.URL != "https://app.example.test/webhooks/bullseye" || !got.Enabled || !got.HasSecret {
		t.Errorf("GET /partner/webhooks identification = %+v, want the URL, enabled, with a secret", got)
	}
}
