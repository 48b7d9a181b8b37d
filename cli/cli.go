// Package cli is the command line of the one bullseye-mock binary: flags
// and BULLSEYE_MOCK_* environment variables bound by kong from one struct
// per command, with serve as the default command.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// Version is stamped at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailed  = 1 // the command ran and something it checked failed
	ExitUsage   = 2 // bad flags, bad input files, nothing could run
	exitHelped  = -1
	envPrefix   = "BULLSEYE_MOCK_"
	programName = "bullseye-mock"
)

type root struct {
	LogFormat string `name:"log-format" enum:"text,json" default:"text" env:"BULLSEYE_MOCK_LOG_FORMAT" help:"Log format on stderr: text or json."`
	LogLevel  string `name:"log-level" enum:"debug,info,warn,error" default:"info" env:"BULLSEYE_MOCK_LOG_LEVEL" help:"Least severe log level shown: debug, info, warn or error."`

	Serve       serveCmd       `cmd:"" default:"withargs" help:"Serve the Partner API fake and send webhooks (the default command)."`
	Healthcheck healthcheckCmd `cmd:"" help:"Exit 0 when a mock answers GET /healthz (for container health checks)."`
	Payload     payloadCmd     `cmd:"" help:"Print an example webhook payload of an event type."`
	Version     versionCmd     `cmd:"" help:"Print the version."`
	Run         runCmd         `cmd:"" help:"Run scenario files against an in-process mock and report; exit 1 when an expectation failed."`
	Validate    validateCmd    `cmd:"" help:"Check scenario files without running them."`
	Send        sendCmd        `cmd:"" help:"Send events to a receiver once, with faults, and wait until they settled."`
	Sign        signCmd        `cmd:"" help:"Print the X-Bullseye-Signature of a body (a file, or standard input)."`
	Check       checkCmd       `cmd:"" help:"Run a conformance battery against a webhook receiver; exit 1 when a case failed."`
	Watch       watchCmd       `cmd:"" help:"Print a serving mock's changes as they happen (GET /_mock/stream); with --limit, wait for the next matching ones."`
}

// env carries what commands need from the process, so tests can run them.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
}

// usageError is a problem with what the user asked for: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError ends a command with a status and, when msg is set, one line.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// Run runs the command line args and returns the process exit status.
// Errors are printed on stderr as one line prefixed with the program name.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (status int) {
	var cli root
	parser, err := kong.New(&cli,
		kong.Name(programName),
		kong.Description("A faithful fake of the Bullseye Partner API and a webhook sender with the vendor's retry schedule."),
		kong.Writers(stdout, stderr),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Exit(func(code int) {
			if code == 0 {
				code = exitHelped // --help and the like: print, then exit 0
			}
			panic(exitError{code: code})
		}),
		defaults(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return ExitUsage
	}
	defer func() {
		if v := recover(); v != nil {
			e, ok := v.(exitError)
			if !ok {
				panic(v)
			}
			status = ExitOK
			if e.code > 0 {
				status = e.code
			}
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, oneLine(err))
		return ExitUsage
	}
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, logger: newLogger(stderr, cli.LogFormat, cli.LogLevel)}
	if err := kctx.Run(e); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintf(stderr, "%s: %s\n", programName, ex.msg)
			}
			return ex.code
		}
		fmt.Fprintf(stderr, "%s: %v\n", programName, oneLine(err))
		var u usageError
		if errors.As(err, &u) {
			return ExitUsage
		}
		return ExitFailed
	}
	return ExitOK
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	fmt.Fprintf(e.stdout, "%s %s\n", programName, Version)
	return nil
}

// defaults are the flags' defaults, read from the packages that own them
// so that each is written once.
func defaults() kong.Vars {
	return kong.Vars{
		"version": Version, "default_key": mock.DefaultAPIKey, "default_addr": mock.DefaultAddr,
		"default_organizations": strconv.Itoa(mock.DefaultOrganizations), "default_rate_limit": strconv.Itoa(mock.DefaultRateLimit),
		"default_max_body": strconv.Itoa(mock.DefaultMaxBody), "default_workers": strconv.Itoa(mock.DefaultWorkers),
		"default_per_endpoint": strconv.Itoa(mock.DefaultPerEndpoint), "default_log_cap": strconv.Itoa(mock.DefaultLogCap),
		"default_delivery_cap": strconv.Itoa(mock.DefaultDeliveryCap),
		"default_journal_cap":  strconv.Itoa(mock.DefaultJournalCap), "default_stream_buffer": strconv.Itoa(mock.DefaultStreamBuffer), "default_max_pending": strconv.Itoa(mock.DefaultMaxPending), "default_max_pending_bytes": strconv.Itoa(mock.DefaultMaxPendingBytes), "default_shutdown_timeout": mock.DefaultShutdownTimeout.String(),
		"default_delays": bullseye.FormatDelays(bullseye.DefaultDelays()), "default_attempts": strconv.Itoa(bullseye.DefaultAttempts),
		"default_timeout": bullseye.DefaultTimeout.String(), "default_grace": ops.DefaultGrace.String(),
		"event_types": strings.Join(bullseye.EventTypes(), ", "), "faults": strings.Join(bullseye.FaultNames(), ", "),
	}
}
