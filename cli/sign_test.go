package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// Known answer, computed independently (Python's hmac module): the body's
// exact bytes, the secret as given.
func TestSign(t *testing.T) {
	f := filepath.Join(t.TempDir(), "body")
	os.WriteFile(f, []byte("hello"), 0o644)
	status, out, errs := runCLI(t, "sign", "--secret", "whsec_test", f)
	if status != ExitOK || out != "fa1f2843ca221403e67c335d22ed782f1f2b5a33261fbee70bd5ae4cbff02490\n" {
		t.Errorf("status %d out %q err %q", status, out, errs)
	}
	if status, _, _ := runCLI(t, "sign", f); status != ExitUsage {
		t.Errorf("without --secret: status %d", status)
	}
	if status, _, _ := runCLI(t, "sign", "--secret", "s", filepath.Join(t.TempDir(), "none")); status != ExitUsage {
		t.Errorf("missing file: status %d", status)
	}
}
