package cli

import (
	"fmt"

	"github.com/bullseye-mock/bullseye-mock/ops"
)

type validateCmd struct {
	Files []string `arg:"" name:"file" help:"Scenario files (YAML or JSON)."`
}

// Run checks files without running them: exit 0 when all are valid, 2 when
// one is not, with file:line:col errors on stderr.
func (c *validateCmd) Run(e *env) error {
	list, err := parseAll(e, c.Files, ops.Budget{})
	if err != nil {
		return err
	}
	for _, s := range list {
		fmt.Fprintf(e.stdout, "ok %s (%s, %d steps)\n", s.File, s.Name, len(s.Steps))
	}
	return nil
}
