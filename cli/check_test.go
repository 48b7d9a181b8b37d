package cli

import (
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/check"
	"github.com/bullseye-mock/bullseye-mock/examples/receivers/naive"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/server"
)

func naiveURL(t *testing.T, f naive.Flaws) string {
	t.Helper()
	srv := httptest.NewServer(naive.Handler("whsec_cli", f))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook"
}

func TestCheckExitStatuses(t *testing.T) {
	good := naiveURL(t, naive.Flaws{})
	bad := naiveURL(t, naive.Flaws{MissingSignature500: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	tests := []struct {
		name   string
		args   []string
		status int
		out    string // in stdout
		errs   string // in stderr
	}{
		{"all pass", []string{"--url", good}, ExitOK, "19 cases: 19 passed, 0 failed, 0 with a note\n", ""},
		{"a case fails", []string{"--url", bad}, ExitFailed, "FAIL  sig_missing", ""},
		{"failing case skipped", []string{"--url", bad, "--skip", "sig_missing"}, ExitOK, "18 cases: 18 passed, 0 failed, 0 with a note, 1 skipped", ""},
		{"only, globs, commas", []string{"--url", good, "--only", "sig_*,duplicate", "--skip", "sig_uppercase"}, ExitOK, "7 cases: 7 passed", ""},
		{"unknown case", []string{"--url", good, "--only", "sig_mising"}, ExitUsage, "", `no case matches "sig_mising"; cases: valid_identification, valid_identification_short,`},
		{"nothing left", []string{"--url", good, "--skip", "*"}, ExitUsage, "", "leave no case to run"},
		{"unreachable", []string{"--url", closed}, ExitUsage, "", "endpoint unreachable: " + closed},
		{"not http", []string{"--url", "ftp://example.com/"}, ExitUsage, "", "expected an http:// or https:// URL"},
		{"bad timeout", []string{"--url", good, "--timeout", "0s"}, ExitUsage, "", "--timeout must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errs := runCLI(t, append([]string{"check", "--secret", "whsec_cli"}, tt.args...)...)
			if status != tt.status || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errs) {
				t.Errorf("status %d (want %d)\nstdout:\n%s\nstderr:\n%s", status, tt.status, out, errs)
			}
		})
	}
	if status, _, errs := runCLI(t, "check", "--url", good); status != ExitUsage || !strings.Contains(errs, "--url and --secret are required") {
		t.Errorf("without --secret: status %d, %q", status, errs)
	}
}

func TestCheckSeedShownAndRandom(t *testing.T) {
	url := naiveURL(t, naive.Flaws{})
	_, out1, _ := runCLI(t, "check", "--secret", "whsec_cli", "--url", url, "--only", "valid_billing")
	_, out2, _ := runCLI(t, "check", "--secret", "whsec_cli", "--url", url, "--only", "valid_billing")
	if !strings.Contains(out1, "(seed ") || strings.SplitN(out1, "\n", 2)[0] == strings.SplitN(out2, "\n", 2)[0] {
		t.Errorf("each run should pick and show its own seed:\n%s\n%s", out1, out2)
	}
	_, out3, _ := runCLI(t, "check", "--secret", "whsec_cli", "--url", url, "--only", "valid_billing", "--seed", "5")
	if !strings.Contains(out3, "(seed 5, timeout 30s)") {
		t.Errorf("--seed 5: %s", out3)
	}
}

func TestCheckJSONAndJUnit(t *testing.T) {
	url := naiveURL(t, naive.Flaws{Conflict: true})
	junit := filepath.Join(t.TempDir(), "check.xml")
	status, out, errs := runCLI(t, "check", "--secret", "whsec_cli", "--url", url, "--json", "--junit", junit, "--seed", "9")
	if status != ExitFailed {
		t.Fatalf("status %d, stderr %s", status, errs)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if rep.Seed != 9 || rep.Failed != 2 || len(rep.Results) != 19 {
		t.Errorf("seed %d failed %d results %d", rep.Seed, rep.Failed, len(rep.Results))
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), `<testcase name="duplicate" classname="check"`) || !strings.Contains(string(x), `failures="2"`) {
		t.Errorf("junit: %v\n%s", err, x)
	}
}

func TestCheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(naive.Handler("whsec_cli", naive.Flaws{}))
	t.Cleanup(srv.Close)
	args := []string{"check", "--secret", "whsec_cli", "--url", srv.URL, "--only", "valid_identification"}
	if status, _, errs := runCLI(t, args...); status != ExitUsage || !strings.Contains(errs, "certificate") {
		t.Errorf("untrusted certificate: status %d, %q", status, errs)
	}
	if status, _, errs := runCLI(t, append(args, "--insecure-skip-verify")...); status != ExitOK {
		t.Errorf("--insecure-skip-verify: status %d, %q", status, errs)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	if status, _, errs := runCLI(t, append(args, "--ca-cert", ca)...); status != ExitOK {
		t.Errorf("--ca-cert: status %d, %q", status, errs)
	}
	if status, _, errs := runCLI(t, append(args, "--ca-cert", filepath.Join(t.TempDir(), "none.pem"))...); status != ExitUsage {
		t.Errorf("missing --ca-cert file: status %d, %q", status, errs)
	}
}

func TestCheckList(t *testing.T) {
	status, out, _ := runCLI(t, "check", "--list")
	if status != ExitOK || strings.Count(out, "\n") != len(check.Names()) || !strings.Contains(out, "sig_uppercase") {
		t.Errorf("status %d\n%s", status, out)
	}
}

// The built-in sink with rejectInvalidSignatures stands in for a correct
// receiver: check pointed at it passes every case.
func TestCheckPassesAgainstARejectingSink(t *testing.T) {
	s := mocktest.NewServer(t)
	s.ConfigureSink("careful", server.SinkConfig{Secret: "whsec_cli", RejectInvalidSignatures: true})
	status, out, errs := runCLI(t, "check", "--url", s.SinkURL("careful"), "--secret", "whsec_cli")
	if status != ExitOK || !strings.Contains(out, " 0 failed") {
		t.Errorf("status %d\nstdout:\n%s\nstderr:\n%s", status, out, errs)
	}
	// Without it, the sink accepts every signature, and the signature cases fail.
	s.ConfigureSink("lax", server.SinkConfig{Secret: "whsec_cli"})
	if status, out, _ := runCLI(t, "check", "--url", s.SinkURL("lax"), "--secret", "whsec_cli"); status != ExitFailed || !strings.Contains(out, "FAIL  sig_missing") {
		t.Errorf("a lax sink passed: %d\n%s", status, out)
	}
}
