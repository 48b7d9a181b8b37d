package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

type signCmd struct {
	Secret string `required:"" env:"BULLSEYE_MOCK_SECRET" help:"Webhook secret, used as given (whsec_ prefix included)."`
	File   string `arg:"" optional:"" help:"File holding the exact body bytes; standard input when omitted or -."`
}

// Run prints the X-Bullseye-Signature of the exact bytes: a trailing
// newline in the file is part of the body, as it would be on the wire.
func (c *signCmd) Run(e *env) error {
	var r io.Reader = os.Stdin
	if c.File != "" && c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, bullseye.Sign(c.Secret, body))
	return err
}
