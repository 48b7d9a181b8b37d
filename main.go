// Command bullseye-mock fakes the Bullseye Partner API and sends signed
// webhooks with the vendor's retry schedule. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bullseye-mock/bullseye-mock/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}
