package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

type payloadCmd struct {
	Type    string `arg:"" default:"visitor.identified" help:"Event type: ${event_types}."`
	Dialect string `default:"partner" enum:"partner,integration" help:"partner (full, event_type) or integration (short, event)."`
	Seed    int64  `default:"1" env:"BULLSEYE_MOCK_SEED" help:"Seed of the fake values."`
	Compact bool   `help:"Print compact JSON, the bytes a receiver gets, instead of indented JSON."`
}

func (c *payloadCmd) Run(e *env) error {
	d, err := bullseye.ParseDialect(c.Dialect)
	if err != nil {
		return usageError{err}
	}
	if _, err := bullseye.KindOf(c.Type); err != nil {
		return usageError{err}
	}
	body, err := fixtures.Example(c.Type, d, c.Seed)
	if err != nil {
		return err
	}
	if !c.Compact {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", body)
	return err
}
