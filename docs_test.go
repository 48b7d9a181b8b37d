package main

// The README and docs/*.md are tested as they are read: every shell command
// in their code blocks is replayed by a testscript in testdata/docs/ (one
// script per README section or doc page), which asserts what the text says
// the command does (output, files, exit status), and TestDocsCommandsAreTested
// fails when a command in the text appears in no script, so a command that
// drifts, or a new one nobody replays, fails the build.
//
// In the scripts:
//
//   - bullseye-mock is this package's CLI (cli.Run, as main.go calls it), run
//     as a real process: the test binary re-executed (testscript.Main). It
//     expands glob arguments as a shell would (scenarios/examples/*.yaml);
//     a pattern that matches nothing stays as written, as in bash.
//   - serve-bg [K=V...] [ARGS...] starts `bullseye-mock ARGS --addr
//     127.0.0.1:0` (the variables K=V added to its environment) in the
//     background, reads the banner (its first line names the URL), prints
//     it, and sets $B to the URL, $ADDR to its host:port and $PORT to its
//     port. serve-stop [INT|TERM] signals it (default SIGTERM), waits, and
//     prints what it wrote after the banner and its stderr; the exit status
//     is the command's (`! serve-stop` for a non-zero one). A server still
//     running at the end of a script is stopped the same way.
//   - receiver VAR [K=V...] CMD ARGS... starts a receiver (the example
//     receivers) and waits for its "listening on PORT" line; VAR becomes
//     http://127.0.0.1:PORT. The docs' receiver at :9000 is that URL.
//   - curl is a stand-in for the options of curl the docs use (-X -H -d
//     --data-binary --data-urlencode -G -s -S -f -o --cacert --retry...),
//     loopback only. It prints the body on stdout like curl, exits like curl
//     (0 for any answer, 22 with -f for a status >= 400, 7 when refused), and,
//     unlike curl without -v, writes the status line and the response headers
//     on stderr ("< HTTP/1.1 200 OK") so a script can assert them.
//   - echo [-n] TEXT... [| CMD ARGS...] is echo, with one pipe into a command.
//   - status N [K=V...] CMD ARGS... runs CMD and fails unless it exits with
//     status N (the docs promise 0, 1 or 2, where ! only says non-zero);
//     "status 0,1" takes either (a latency threshold on a loaded machine).
//     With a last word &NAME& it runs in the background; await NAME waits
//     for it, prints its output and checks its status (long sends run
//     side by side this way).
//   - waitfor URL REGEXP polls GET URL until the body matches (10 s at
//     most): only where the mock has no long-poll for the state awaited.
//   - setjson VAR PATH sets VAR from the JSON of the last stdout (PATH is
//     dot-separated, with numbers for array elements: deliveryIds.0).
//
// The drift check compares words, after the shell's quoting and the
// scripts' own: doc lines use http://127.0.0.1:8080 where the scripts use $B,
// the reader's receiver at :9000 where they use $RX (an example receiver on
// a free port), /tmp where they use $TMPDIR, and go run . or ./bullseye-mock
// where they run bullseye-mock (see normaliseDocWords and scriptCommandsIn).
// docsNotRun lists, with the reason, the few commands no script can run.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/bullseye-mock/bullseye-mock/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"bullseye-mock": docsCLI,
	})
}

// docsCLI is main, with a shell's glob expansion of the arguments.
func docsCLI() {
	var args []string
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, "*?[") {
			if m, err := filepath.Glob(a); err == nil && len(m) > 0 {
				sort.Strings(m)
				args = append(args, m...)
				continue
			}
		}
		args = append(args, a)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := cli.Run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}

const docsScripts = "testdata/docs"

func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s of real time (sends at a rate, go run of a receiver); the drift check, TestDocsCommandsAreTested, still runs")
	}
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// Every script, and every command in it, ends by this deadline.
	deadline := time.Now().Add(150 * time.Second)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	testscript.Run(t, testscript.Params{
		Dir:                docsScripts,
		Deadline:           deadline,
		RequireUniqueNames: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("REPO", repo)
			// Under -race, the scripts' bullseye-mock is a race-instrumented
			// binary, which by default sleeps 1 s at exit for late reports:
			// 50 ms will do for commands that have ended their work.
			gorace := os.Getenv("GORACE")
			if gorace == "" {
				gorace = "atexit_sleep_ms=50"
			}
			e.Setenv("GORACE", gorace)
			// The repository's scenario files, where the docs' relative paths
			// expect them; a copy, so that scripts may add files beside them.
			if err := copyDir(filepath.Join(repo, "scenarios", "examples"), filepath.Join(e.WorkDir, "scenarios", "examples")); err != nil {
				return err
			}
			st := &scriptState{deadline: deadline}
			e.Values[stateKey{}] = st
			e.Defer(func() { st.stopAll(e.T()) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"serve-bg":   cmdServeBg,
			"serve-stop": cmdServeStop,
			"receiver":   cmdReceiver,
			"curl":       cmdCurl,
			"echo":       cmdEcho,
			"status":     cmdStatus,
			"await":      cmdAwait,
			"waitfor":    cmdWaitfor,
			"setjson":    cmdSetJSON,
		},
	})
}

func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o777); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o666); err != nil {
			return err
		}
	}
	return nil
}

type stateKey struct{}

// scriptState holds one script's background processes.
type scriptState struct {
	deadline  time.Time
	mu        sync.Mutex
	server    *bgProc
	receivers []*bgProc
	bg        map[string]*bgRun
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

func (st *scriptState) stopAll(t testscript.T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.server != nil {
		if err := st.server.stop(syscall.SIGTERM, 20*time.Second); err != nil {
			t.Log(fmt.Sprintf("stopping the server at the end of the script: %v\n%s", err, st.server.stderr.String()))
		}
		st.server = nil
	}
	for _, r := range st.receivers {
		_ = r.stop(syscall.SIGTERM, 5*time.Second)
	}
	st.receivers = nil
	for name, r := range st.bg { // not awaited: the script failed before
		r.cancel()
		<-r.done
		delete(st.bg, name)
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bgProc is a process started in the background, in a process group of its
// own (go run's child goes with it), whose stdout is read line by line until
// it says it is ready, then kept.
type bgProc struct {
	cmd    *exec.Cmd
	stdout lockedBuffer // after the lines read at start
	stderr lockedBuffer
	done   chan struct{}
	err    error         // cmd.Wait's, once done is closed
	read   chan struct{} // closed when stdout is read to its end
}

// startBg starts argv and reads its stdout until ready returns true for a
// line (the lines read so far are returned), for at most timeout.
func startBg(ts *testscript.TestScript, env, argv []string, timeout time.Duration, ready func(line string) bool) (*bgProc, []string, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, nil, err
	}
	p := &bgProc{cmd: exec.Command(path, argv[1:]...), done: make(chan struct{}), read: make(chan struct{})}
	p.cmd.Dir = ts.MkAbs(".")
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.WaitDelay = 2 * time.Second // a leftover child holding stderr open
	// Our own pipe, so that Wait does not wait for its reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	p.cmd.Stdout = pw
	err = p.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	lines := make(chan string)
	readyc := make(chan struct{})
	go func() {
		defer close(p.read)
		defer pr.Close()
		defer close(lines)
		r := bufio.NewReader(pr)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				select {
				case <-readyc:
					fmt.Fprint(&p.stdout, line)
				case lines <- strings.TrimRight(line, "\r\n"):
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var got []string
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				<-p.done
				return nil, got, fmt.Errorf("%s ended before it was ready (%v); stderr:\n%s", argv[0], p.err, p.stderr.String())
			}
			got = append(got, line)
			if ready(line) {
				close(readyc)
				return p, got, nil
			}
		case <-timer.C:
			p.kill()
			go func() {
				for range lines {
				}
			}()
			<-p.done
			return nil, got, fmt.Errorf("%s not ready after %v; stdout so far %q; stderr:\n%s", argv[0], timeout, got, p.stderr.String())
		}
	}
}

func (p *bgProc) kill() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

// stop signals the process group and waits for the process, killing the
// group after timeout.
func (p *bgProc) stop(sig syscall.Signal, timeout time.Duration) error {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
		p.kill() // anything it left behind
		select {
		case <-p.read:
		case <-time.After(2 * time.Second):
		}
		return p.err
	case <-time.After(timeout):
		p.kill()
		<-p.done
		return fmt.Errorf("did not stop within %v of %v; killed", timeout, sig)
	}
}

// splitEnv takes the leading NAME=value words off args.
func splitEnv(args []string) (env, rest []string) {
	for i, a := range args {
		if eq := strings.IndexByte(a, '='); eq <= 0 || strings.HasPrefix(a, "-") || !envName.MatchString(a[:eq]) {
			return args[:i], args[i:]
		}
	}
	return args, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scriptEnv is the environment a script's own processes get: the script's
// PATH, HOME, TMPDIR and GORACE (none of the test process's BULLSEYE_MOCK_*
// variables), plus extra.
func scriptEnv(ts *testscript.TestScript, extra []string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GORACE"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return append(env, extra...)
}

// cmdServeBg: serve-bg [K=V...] [ARGS...]
func cmdServeBg(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("serve-bg does not take !")
	}
	st := state(ts)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.server != nil {
		ts.Fatalf("a server is already running: serve-stop it first")
	}
	env, args := splitEnv(args)
	hasAddr := false
	for _, a := range args {
		hasAddr = hasAddr || a == "--addr" || strings.HasPrefix(a, "--addr=")
	}
	for _, kv := range env {
		hasAddr = hasAddr || strings.HasPrefix(kv, "BULLSEYE_MOCK_ADDR=")
	}
	if !hasAddr {
		args = append(args, "--addr", "127.0.0.1:0")
	}
	const prefix = "bullseye-mock listening on "
	var first string
	p, banner, err := startBg(ts, scriptEnv(ts, env), append([]string{"bullseye-mock"}, args...), 20*time.Second, func(line string) bool {
		if first == "" {
			first = line
		}
		return strings.HasPrefix(line, "Inspect deliveries:")
	})
	if err != nil {
		ts.Fatalf("serve-bg: %v", err)
	}
	if !strings.HasPrefix(first, prefix) {
		p.kill()
		<-p.done
		ts.Fatalf("serve-bg: first line %q does not start with %q", first, prefix)
	}
	base := strings.TrimPrefix(first, prefix)
	u, err := url.Parse(base)
	if err != nil {
		p.kill()
		<-p.done
		ts.Fatalf("serve-bg: %v", err)
	}
	st.server = p
	ts.Setenv("B", base)
	ts.Setenv("ADDR", u.Host)
	ts.Setenv("PORT", u.Port())
	fmt.Fprintln(ts.Stdout(), strings.Join(banner, "\n"))
}

// cmdServeStop: serve-stop [INT|TERM]
func cmdServeStop(ts *testscript.TestScript, neg bool, args []string) {
	sig := syscall.SIGTERM
	if len(args) > 1 {
		ts.Fatalf("usage: serve-stop [INT|TERM]")
	}
	if len(args) == 1 {
		switch args[0] {
		case "INT":
			sig = syscall.SIGINT
		case "TERM":
		default:
			ts.Fatalf("usage: serve-stop [INT|TERM]")
		}
	}
	st := state(ts)
	st.mu.Lock()
	p := st.server
	st.server = nil
	st.mu.Unlock()
	if p == nil {
		ts.Fatalf("serve-stop: no server is running")
	}
	err := p.stop(sig, 20*time.Second)
	fmt.Fprint(ts.Stdout(), p.stdout.String())
	fmt.Fprint(ts.Stderr(), p.stderr.String())
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		ts.Fatalf("serve-stop: %v", err)
	case err != nil && !neg:
		ts.Fatalf("serve-stop: %v", err)
	case err == nil && neg:
		ts.Fatalf("serve-stop: exit status 0, want non-zero")
	}
}

// cmdReceiver: receiver VAR [K=V...] CMD ARGS...
func cmdReceiver(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || !envName.MatchString(args[0]) {
		ts.Fatalf("usage: receiver VAR [K=V...] CMD ARGS...")
	}
	name := args[0]
	env, argv := splitEnv(args[1:])
	if len(argv) == 0 {
		ts.Fatalf("usage: receiver VAR [K=V...] CMD ARGS...")
	}
	// The receivers are the reader's own programs (go run, python3, node):
	// they get the test's environment (the Go caches, pyenv's), less the
	// mock's variables.
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BULLSEYE_") {
			base = append(base, kv)
		}
	}
	listening := regexp.MustCompile(`^listening on (\d+)$`)
	var port string
	// go run may compile first.
	timeout := 90 * time.Second
	if d := time.Until(state(ts).deadline) - 10*time.Second; d < timeout {
		timeout = d
	}
	p, _, err := startBg(ts, append(base, env...), argv, timeout, func(line string) bool {
		if m := listening.FindStringSubmatch(line); m != nil {
			port = m[1]
			return true
		}
		return false
	})
	if err != nil {
		ts.Fatalf("receiver: %v", err)
	}
	st := state(ts)
	st.mu.Lock()
	st.receivers = append(st.receivers, p)
	st.mu.Unlock()
	ts.Setenv(name, "http://127.0.0.1:"+port)
}

// command prepares argv to run in the script's directory with stdin.
func command(ts *testscript.TestScript, env, argv []string, stdin string) (*exec.Cmd, context.CancelFunc) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), state(ts).deadline)
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts, env)
	cmd.Stdin = strings.NewReader(stdin)
	return cmd, cancel
}

// exitStatus is the exit status of a command that ran, or err if it did not.
func exitStatus(err error) (int, error) {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), nil
	default:
		return -1, err
	}
}

// runProc runs argv, writes its output to the script's stdout and stderr,
// and returns its exit status.
func runProc(ts *testscript.TestScript, env, argv []string, stdin string) int {
	cmd, cancel := command(ts, env, argv, stdin)
	defer cancel()
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	code, err := exitStatus(cmd.Run())
	if err != nil {
		ts.Fatalf("%s: %v", argv[0], err)
	}
	return code
}

// bgRun is a command that status started in the background.
type bgRun struct {
	argv           []string
	want           map[int]bool
	wantText       string
	code           int
	err            error
	stdout, stderr bytes.Buffer
	cancel         context.CancelFunc
	done           chan struct{}
}

var bgName = regexp.MustCompile(`^&(\w+)&$`)

// parseStatuses reads "1" or "0,1".
func parseStatuses(s string) (map[int]bool, error) {
	want := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		want[n] = true
	}
	return want, nil
}

// cmdStatus: status N[,N...] [K=V...] CMD ARGS... [&NAME&]: CMD exits with
// status N (one of them); with &NAME&, it runs in the background and "await
// NAME" checks it.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: status N[,N...] [K=V...] CMD ARGS... [&NAME&]"
	if neg || len(args) < 2 {
		ts.Fatalf(usage)
	}
	want, err := parseStatuses(args[0])
	if err != nil {
		ts.Fatalf(usage)
	}
	env, argv := splitEnv(args[1:])
	name := ""
	if m := bgName.FindStringSubmatch(argv[len(argv)-1]); m != nil {
		name, argv = m[1], argv[:len(argv)-1]
	}
	if len(argv) == 0 {
		ts.Fatalf(usage)
	}
	if name == "" {
		if got := runProc(ts, env, argv, ""); !want[got] {
			ts.Fatalf("%s: exit status %d, want %s", argv[0], got, args[0])
		}
		return
	}
	st := state(ts)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.bg[name] != nil {
		ts.Fatalf("status: a command named %q is already running", name)
	}
	r := &bgRun{argv: argv, want: want, wantText: args[0], done: make(chan struct{})}
	cmd, cancel := command(ts, env, argv, "")
	r.cancel = cancel
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		ts.Fatalf("%s: %v", argv[0], err)
	}
	go func() {
		defer close(r.done)
		defer cancel()
		r.code, r.err = exitStatus(cmd.Wait())
	}()
	if st.bg == nil {
		st.bg = map[string]*bgRun{}
	}
	st.bg[name] = r
}

// cmdAwait: await NAME: waits for the command "status N ... &NAME&" started,
// prints its output, and fails unless it exited with status N.
func cmdAwait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: await NAME")
	}
	st := state(ts)
	st.mu.Lock()
	r := st.bg[args[0]]
	delete(st.bg, args[0])
	st.mu.Unlock()
	if r == nil {
		ts.Fatalf("await: no command named %q", args[0])
	}
	<-r.done
	_, _ = ts.Stdout().Write(r.stdout.Bytes())
	_, _ = ts.Stderr().Write(r.stderr.Bytes())
	if r.err != nil {
		ts.Fatalf("%s: %v", r.argv[0], r.err)
	}
	if !r.want[r.code] {
		ts.Fatalf("%s: exit status %d, want %s", r.argv[0], r.code, r.wantText)
	}
}

// cmdEcho: echo [-n] TEXT... [| CMD ARGS...]
func cmdEcho(ts *testscript.TestScript, neg bool, args []string) {
	newline := "\n"
	if len(args) > 0 && args[0] == "-n" {
		newline, args = "", args[1:]
	}
	words, pipe := args, []string(nil)
	for i, a := range args {
		if a == "|" {
			words, pipe = args[:i], args[i+1:]
			break
		}
	}
	text := strings.Join(words, " ") + newline
	if pipe == nil {
		if neg {
			ts.Fatalf("echo does not fail")
		}
		fmt.Fprint(ts.Stdout(), text)
		return
	}
	if len(pipe) == 0 {
		ts.Fatalf("echo: nothing after |")
	}
	code := runProc(ts, nil, pipe, text)
	if (code != 0) != neg {
		ts.Fatalf("echo | %s: exit status %d", pipe[0], code)
	}
}

// cmdWaitfor: waitfor URL REGEXP polls GET URL (loopback only) every 10 ms
// until its body matches, for at most 10 s. Only for a state the mock has no
// long-poll for: prefer a long-poll endpoint.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor URL REGEXP")
	}
	u, err := url.Parse(args[0])
	if err != nil {
		ts.Fatalf("waitfor: %v", err)
	}
	if err := loopbackOnly(u.Hostname()); err != nil {
		ts.Fatalf("waitfor: %v", err)
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitfor: %v", err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	end := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(end) {
		resp, err := client.Get(args[0])
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if re.MatchString(last) {
				fmt.Fprint(ts.Stdout(), last)
				return
			}
		} else {
			last = err.Error()
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("waitfor: %s did not match %q within 10s; last: %s", args[0], args[1], last)
}

// cmdSetJSON: setjson VAR PATH
func cmdSetJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setjson VAR PATH")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("setjson: stdout is not JSON: %v", err)
	}
	for _, key := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				ts.Fatalf("setjson: no %q in %s", key, args[1])
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("setjson: no element %q in %s", key, args[1])
			}
			v = x[i]
		default:
			ts.Fatalf("setjson: %s: %q is not in an object or array", args[1], key)
		}
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	ts.Setenv(args[0], s)
}

// curlReq is a parsed curl command line.
type curlReq struct {
	method, url, output, cacert string
	headers                     []string
	data                        []string // -d, --data-binary, --data-urlencode, in order
	get, fail                   bool
	retries, retryDelay         int
	retryAll                    bool
	formBody                    bool // a -d style body: Content-Type application/x-www-form-urlencoded
}

func parseCurl(ts *testscript.TestScript, args []string) (*curlReq, error) {
	c := &curlReq{}
	// Combined short options: -fsS.
	var expanded []string
	for _, a := range args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "fsSG") == "" {
			for _, r := range a[1:] {
				expanded = append(expanded, "-"+string(r))
			}
			continue
		}
		expanded = append(expanded, a)
	}
	args = expanded
	readData := func(v string, binary bool) (string, error) {
		if !strings.HasPrefix(v, "@") {
			return v, nil
		}
		b, err := os.ReadFile(ts.MkAbs(v[1:]))
		if err != nil {
			return "", err
		}
		if !binary { // curl -d @file drops carriage returns and newlines
			b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
		}
		return string(b), nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s: requires a value", a)
			}
			i++
			return args[i], nil
		}
		var v string
		var err error
		switch a {
		case "-s", "--silent", "-S", "--show-error":
		case "-f", "--fail":
			c.fail = true
		case "-G", "--get":
			c.get = true
		case "--retry-all-errors":
			c.retryAll = true
		case "-X", "--request":
			c.method, err = val()
		case "-H", "--header":
			v, err = val()
			c.headers = append(c.headers, v)
		case "-o", "--output":
			c.output, err = val()
		case "--cacert":
			c.cacert, err = val()
		case "-d", "--data", "--data-ascii":
			if v, err = val(); err == nil {
				v, err = readData(v, false)
				c.data, c.formBody = append(c.data, v), true
			}
		case "--data-binary":
			if v, err = val(); err == nil {
				v, err = readData(v, true)
				c.data, c.formBody = append(c.data, v), true
			}
		case "--data-urlencode":
			if v, err = val(); err == nil {
				if eq := strings.IndexByte(v, '='); eq > 0 {
					v = v[:eq] + "=" + url.QueryEscape(v[eq+1:])
				} else {
					v = url.QueryEscape(strings.TrimPrefix(v, "="))
				}
				c.data, c.formBody = append(c.data, v), true
			}
		case "--retry", "--retry-delay":
			if v, err = val(); err == nil {
				var n int
				if n, err = strconv.Atoi(v); err == nil {
					if a == "--retry" {
						c.retries = n
					} else {
						c.retryDelay = n
					}
				}
			}
		default:
			if strings.HasPrefix(a, "-") {
				return nil, fmt.Errorf("option %s: not supported by the stand-in (add it to docs_test.go)", a)
			}
			if c.url != "" {
				return nil, fmt.Errorf("more than one URL: %s and %s", c.url, a)
			}
			c.url = a
		}
		if err != nil {
			return nil, err
		}
	}
	if c.url == "" {
		return nil, errors.New("no URL")
	}
	return c, nil
}

// loopbackOnly refuses any host but this machine's loopback.
func loopbackOnly(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("host %q is not loopback: the stand-in only talks to this machine", host)
}

// cmdCurl: curl OPTIONS URL
func cmdCurl(ts *testscript.TestScript, neg bool, args []string) {
	c, err := parseCurl(ts, args)
	if err != nil {
		ts.Fatalf("curl stand-in: %v", err)
	}
	code, msg := c.run(ts)
	if msg != "" {
		fmt.Fprintf(ts.Stderr(), "curl: (%d) %s\n", code, msg)
	}
	if (code != 0) != neg {
		ts.Fatalf("curl: exit status %d", code)
	}
}

func (c *curlReq) run(ts *testscript.TestScript) (code int, msg string) {
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return 3, fmt.Sprintf("URL rejected: %q", c.url)
	}
	if err := loopbackOnly(u.Hostname()); err != nil {
		return 6, err.Error()
	}
	method, body := "GET", ""
	if len(c.data) > 0 {
		if c.get {
			q := strings.Join(c.data, "&")
			if u.RawQuery != "" {
				q = u.RawQuery + "&" + q
			}
			u.RawQuery = q
		} else {
			method, body = "POST", strings.Join(c.data, "&")
		}
	}
	if c.method != "" {
		method = c.method
	}
	tr := &http.Transport{}
	if c.cacert != "" {
		pem, err := os.ReadFile(ts.MkAbs(c.cacert))
		if err != nil {
			return 77, fmt.Sprintf("error reading CA cert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return 77, "no certificate in " + c.cacert
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       90 * time.Second, // the docs' long-polls wait at most 30 s
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var resp *http.Response
	var respBody []byte
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
		if err != nil {
			return 3, err.Error()
		}
		if body == "" && len(c.data) == 0 {
			req.Body, req.ContentLength = nil, 0
		}
		req.Header.Set("User-Agent", "curl/8 (docs_test stand-in)")
		req.Header.Set("Accept", "*/*")
		if c.formBody && !c.get {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, h := range c.headers {
			k, v, ok := strings.Cut(h, ":")
			if !ok {
				return 2, fmt.Sprintf("bad header %q", h)
			}
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		resp, err = client.Do(req)
		if err == nil {
			respBody, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		transient := err != nil && c.retryAll
		if err == nil {
			switch resp.StatusCode {
			case 408, 429, 500, 502, 503, 504:
				transient = true
			}
		}
		if attempt < c.retries && transient && time.Now().Add(time.Duration(c.retryDelay)*time.Second).Before(state(ts).deadline) {
			time.Sleep(time.Duration(c.retryDelay) * time.Second)
			continue
		}
		if err != nil {
			var ue *url.Error
			switch {
			case errors.As(err, &ue) && ue.Timeout():
				return 28, err.Error()
			case strings.Contains(err.Error(), "connection refused"):
				return 7, err.Error()
			case strings.Contains(err.Error(), "certificate"):
				return 60, err.Error()
			default:
				return 56, err.Error()
			}
		}
		break
	}
	fmt.Fprintf(ts.Stderr(), "< %s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(ts.Stderr(), "< %s: %s\n", k, v)
		}
	}
	if c.fail && resp.StatusCode >= 400 {
		return 22, fmt.Sprintf("The requested URL returned error: %d", resp.StatusCode)
	}
	if c.output != "" {
		if err := os.WriteFile(ts.MkAbs(c.output), respBody, 0o666); err != nil {
			return 23, err.Error()
		}
		return 0, ""
	}
	_, _ = ts.Stdout().Write(respBody)
	return 0, ""
}

// --- The drift check -------------------------------------------------------

// docsNotRun lists the commands of the docs that no script runs, each with
// why. Patterns are regular expressions matched against the whole
// normalised command (see normaliseDocWords). Keep it short: prefer a
// script that runs the command against a stand-in.
var docsNotRun = []struct{ pattern, why string }{
	{`^(\w+=\S+ )*go test .*`, "the test and benchmark commands: CI runs go test -race ./... itself (.ci/run); the benchmarks take minutes and are measured by hand, never asserted"},
	{`^go vet \./\.\.\.$|^gofmt -l \.$`, "CI's own lint steps (.ci/run runs both)"},
	{`^(\w+=\S+ )*scripts/bench-[\w-]+\.sh( .*)?$|^perf (record|report) .*`, "load benchmarks and their profiles: minutes of load against vegeta, read by hand and never asserted (README, Benchmarks)"},
	{`^go build -o bullseye-mock \.$`, "the scripts' bullseye-mock is this package compiled into the test binary; main_test.go builds the binary the same way and runs it"},
	{`^(docker|docker-compose) .*|^scripts/docker-base\.sh$|^cd examples/compose$`, "need a Docker engine and build images (minutes): container/ tests and scripts/ci-container.sh run them; the curl calls beside them run in readme-docker.txtar against the same binary"},
	{`^scripts/screenshots\.sh$`, "starts Chromium and rewrites docs/img; server's TestUIScreenshots, which it runs, runs in CI into a temporary directory"},
	{`^xdg-open \$B/_mock/ui$`, "opens a desktop browser; readme-quickstart.txtar fetches the page, and server/'s Chromium tests drive the inspector"},
}

// docCommand is one command of a doc's shell block, normalised.
type docCommand struct {
	file  string
	line  int
	words []string
}

func (d docCommand) String() string { return strings.Join(d.words, " ") }

var shellFence = regexp.MustCompile("^```(sh|bash|shell|console)\\s*$")

// docShellBlocks returns the shell code blocks of a markdown file, each with
// the line number of its first line.
func docShellBlocks(text string) (blocks []string, lines []int) {
	var cur []string
	in := false
	start := 0
	for i, l := range strings.Split(text, "\n") {
		switch {
		case !in && shellFence.MatchString(l):
			in, cur, start = true, nil, i+2
		case in && strings.HasPrefix(l, "```"):
			in = false
			blocks, lines = append(blocks, strings.Join(cur, "\n")), append(lines, start)
		case in:
			cur = append(cur, l)
		}
	}
	return blocks, lines
}

// shellWords splits a shell block into commands of words as sh does:
// quotes ('...', "..." with $VAR expansion from vars), backslash-newline
// continuations, comments from an unquoted #, commands ending at newlines,
// ';' and '&&'. A '|' stays a word of its command. Each command is handed to
// onCmd, with the line it starts on, before the next one is read, so that
// onCmd may set vars for the commands after it.
func shellWords(block string, vars map[string]string, onCmd func(words []string, line int)) {
	var words []string
	var w strings.Builder
	inWord := false
	line, cmdLine := 0, 0
	flushWord := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			onCmd(words, cmdLine)
		}
		words = nil
	}
	expand := func(s string, i int) (string, int) { // s[i] == '$'
		j := i + 1
		brace := j < len(s) && s[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		name := s[j:k]
		if brace && k < len(s) && s[k] == '}' {
			k++
		}
		if name == "" {
			return "$", i + 1
		}
		if v, ok := vars[name]; ok {
			return v, k
		}
		return "$" + name, k
	}
	s := block
	for i := 0; i < len(s); {
		ch := s[i]
		if !inWord && len(words) == 0 {
			cmdLine = line
		}
		switch {
		case ch == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			line++
		case ch == '\n':
			flushCmd()
			i++
			line++
		case ch == ' ' || ch == '\t':
			flushWord()
			i++
		case ch == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case ch == ';':
			flushCmd()
			i++
		case ch == '&' && i+1 < len(s) && s[i+1] == '&':
			flushCmd()
			i += 2
		case ch == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			q := s[i+1 : i+1+j]
			line += strings.Count(q, "\n")
			w.WriteString(q)
			i += j + 2
		case ch == '"':
			inWord = true
			i++
			for i < len(s) && s[i] != '"' {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
					w.WriteByte(s[i+1])
					i += 2
				case s[i] == '$':
					v, k := expand(s, i)
					w.WriteString(v)
					i = k
				default:
					if s[i] == '\n' {
						line++
					}
					w.WriteByte(s[i])
					i++
				}
			}
			i++
		case ch == '$':
			inWord = true
			v, k := expand(s, i)
			w.WriteString(v)
			i = k
		default:
			inWord = true
			w.WriteByte(ch)
			i++
		}
	}
	flushCmd()
}

// docHosts are the docs' addresses, and what the scripts call them.
var docHosts = strings.NewReplacer(
	"http://127.0.0.1:8080", "$B",
	"https://127.0.0.1:8080", "$B",
	"http://localhost:8080", "$B",
	"http://127.0.0.1:9000", "$RX",
	"http://localhost:9000", "$RX",
	"127.0.0.1:9000", "127.0.0.1:0", // a receiver's listen address: a free port
	"/tmp/", "$TMPDIR/",
)

var spaces = regexp.MustCompile(`\s+`)

// normaliseDocWords turns a doc command into the words a script runs:
// go run . and ./bullseye-mock become bullseye-mock, the docs' hosts the
// scripts' variables, a lone 9000 (a receiver's port) 0, and an output
// redirection is dropped (a script copies stdout instead).
func normaliseDocWords(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "go" && i+2 < len(words) && words[i+1] == "run" && words[i+2] == ".":
			out = append(out, "bullseye-mock")
			i += 2
			continue
		case w == "./bullseye-mock":
			w = "bullseye-mock"
		case w == ">" && i+1 < len(words):
			i++
			continue
		case w == "9000":
			w = "0"
		}
		out = append(out, spaces.ReplaceAllString(docHosts.Replace(w), " "))
	}
	return out
}

// variants expands the docs' optional groups, "[--report json]": the command
// without any of them, and with all of them.
func variants(words []string) [][]string {
	var without, with []string
	depth := 0
	found := false
	for _, w := range words {
		open := depth == 0 && strings.HasPrefix(w, "[") && !strings.HasPrefix(w, "[{")
		if open {
			depth, found = 1, true
			w = strings.TrimPrefix(w, "[")
		}
		if depth > 0 {
			closed := strings.HasSuffix(w, "]")
			w = strings.TrimSuffix(w, "]")
			if w != "" {
				with = append(with, w)
			}
			if closed {
				depth = 0
			}
			continue
		}
		without, with = append(without, w), append(with, w)
	}
	if !found {
		return [][]string{words}
	}
	return [][]string{without, with}
}

// docCommands reads every shell command of README.md and docs/*.md.
func docCommands(t *testing.T) []docCommand {
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"README.md"}, files...)
	var cmds []docCommand
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, docCommandsIn(f, string(data))...)
	}
	return cmds
}

// docCommandsIn reads the shell commands of one markdown text.
func docCommandsIn(file, text string) []docCommand {
	var cmds []docCommand
	blocks, starts := docShellBlocks(text)
	vars := map[string]string{"B": "$B"}
	for bi, block := range blocks {
		shellWords(block, vars, func(ws []string, line int) {
			// NAME=value alone assigns a variable for the rest of the file.
			assigns := true
			for _, w := range ws {
				eq := strings.IndexByte(w, '=')
				assigns = assigns && eq > 0 && envName.MatchString(w[:eq])
			}
			if assigns {
				for _, w := range ws {
					name, value, _ := strings.Cut(w, "=")
					vars[name] = strings.Join(normaliseDocWords([]string{value}), "")
				}
				return
			}
			for _, v := range variants(normaliseDocWords(ws)) {
				cmds = append(cmds, docCommand{file: file, line: starts[bi] + line, words: v})
			}
		})
	}
	return cmds
}

// scriptWords splits a testscript line as testscript does ('...' quoting,
// a doubled quote inside quotes for a quote, # starts a comment), without
// expanding variables.
func scriptWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '\'' && i+1 < len(line) && line[i+1] == '\'':
			w.WriteByte('\'')
			i++
		case ch == '\'':
			quoted, inWord = !quoted, true
		case quoted:
			w.WriteByte(ch)
		case ch == '#':
			i = len(line)
		case ch == ' ' || ch == '\t' || ch == '\r':
			if inWord {
				words = append(words, w.String())
			}
			w.Reset()
			inWord = false
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// scriptCommands reads the commands of every script, as the doc commands
// they replay (see scriptCommandsIn).
func scriptCommands(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(docsScripts, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts in %s", docsScripts)
	}
	var all []string
	for _, f := range files {
		a, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, scriptCommandsIn(string(a.Comment))...)
	}
	return all
}

// scriptCommandsIn reads a script's commands, as the doc commands they
// replay, each a string of words joined by NUL: conditions, !, exec and a
// trailing & or &NAME& are dropped, serve-bg [K=V...] is bullseye-mock (the
// address it adds is the docs' default), and "receiver VAR" and "status N"
// are dropped before the command they run.
func scriptCommandsIn(script string) []string {
	var all []string
	for _, line := range strings.Split(script, "\n") {
		ws := scriptWords(line)
		for len(ws) > 0 && (strings.HasPrefix(ws[0], "[") && strings.HasSuffix(ws[0], "]") || ws[0] == "!" || ws[0] == "exec") {
			ws = ws[1:]
		}
		if len(ws) > 0 && (ws[len(ws)-1] == "&" || strings.HasPrefix(ws[len(ws)-1], "&") && strings.HasSuffix(ws[len(ws)-1], "&")) {
			ws = ws[:len(ws)-1]
		}
		if len(ws) == 0 {
			continue
		}
		switch ws[0] {
		case "serve-bg":
			_, rest := splitEnv(ws[1:])
			ws = append([]string{"bullseye-mock"}, rest...)
		case "receiver":
			if len(ws) > 2 {
				ws = ws[2:]
			}
		case "status": // status N [K=V...] CMD ARGS...
			if len(ws) > 2 {
				_, ws = splitEnv(ws[2:])
			}
		}
		for i, w := range ws {
			ws[i] = spaces.ReplaceAllString(w, " ")
		}
		all = append(all, strings.Join(ws, "\x00"))
	}
	return all
}

// replayedBy says whether one of the script commands replays d.
func replayedBy(d docCommand, scripts []string) bool {
	re := docPattern(d)
	for _, s := range scripts {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

var idWildcard = regexp.MustCompile(`[A-Za-z0-9_]*\\\.\\\.\\\.`)

// docPattern matches a script command that replays d: a word "..." stands
// for one or more words, and "5c1f..." inside a word for any id.
func docPattern(d docCommand) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i, w := range d.words {
		if i > 0 {
			b.WriteString("\x00")
		}
		if w == "..." {
			b.WriteString("[^\x00]+(\x00[^\x00]+)*")
			continue
		}
		b.WriteString(idWildcard.ReplaceAllString(regexp.QuoteMeta(w), `[^\x00/?&"\s]+`))
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// TestDocsCommandsAreTested fails when a command of README.md or docs/*.md
// is in no script of testdata/docs and not in docsNotRun.
func TestDocsCommandsAreTested(t *testing.T) {
	docs := docCommands(t)
	if len(docs) < 50 {
		t.Fatalf("found only %d commands in the docs: is the extraction broken?", len(docs))
	}
	scripts := scriptCommands(t)
	notRunUsed := make([]bool, len(docsNotRun))
	var missing []string
	replayed := 0
	for _, d := range docs {
		if replayedBy(d, scripts) {
			replayed++
			continue
		}
		found := false
		for i, n := range docsNotRun {
			if regexp.MustCompile(`^(` + n.pattern + `)$`).MatchString(d.String()) {
				found, notRunUsed[i] = true, true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s:%d: %s", d.file, d.line, d))
		}
	}
	t.Logf("%d commands in the docs' shell blocks: %d replayed by a script, %d in docsNotRun, %d in neither",
		len(docs), replayed, len(docs)-replayed-len(missing), len(missing))
	if len(missing) > 0 {
		t.Errorf("%d commands of the docs are run by no script in %s (add them to the script of their section, or, if they cannot run in CI, to docsNotRun with the reason):\n\t%s",
			len(missing), docsScripts, strings.Join(missing, "\n\t"))
	}
	for i, used := range notRunUsed {
		if !used {
			t.Errorf("docsNotRun entry %q matches no command of the docs that lacks a script: remove it", docsNotRun[i].pattern)
		}
	}
}

// TestDocsDriftCheckMatches checks the drift check itself: a doc command and
// the script line that replays it match, and a changed flag, value or URL
// does not.
func TestDocsDriftCheckMatches(t *testing.T) {
	doc := "# Title\n\n```sh\n" +
		"KEY='X-Partner-API-Key: k'; API=http://127.0.0.1:8080/api/v1\n" +
		"curl \"$API/partner/webhooks?x=1&y=2\" -H \"$KEY\"   # a comment\n" +
		"go run . send visitor.identified --url http://127.0.0.1:9000/webhooks \\\n" +
		"  --count 5 [--report json]\n" +
		"curl -s -X POST $B/_mock/events -d '{\"type\": \"visitor.identified\",\n" +
		"  \"count\": 3}'\n" +
		"curl -s $B/_mock/deliveries/5c1f.../wait?attempts=2\n" +
		"bullseye-mock check ... --json > check.json\n" +
		"echo -n '{\"a\":1}' | go run . sign --secret s\n" +
		"```\n\n```json\n{\"not\": \"a command\"}\n```\n"
	cmds := docCommandsIn("doc.md", doc)
	var got []string
	for _, c := range cmds {
		got = append(got, fmt.Sprintf("%d: %s", c.line, c))
	}
	want := []string{
		"5: curl $B/api/v1/partner/webhooks?x=1&y=2 -H X-Partner-API-Key: k",
		"6: bullseye-mock send visitor.identified --url $RX/webhooks --count 5",
		"6: bullseye-mock send visitor.identified --url $RX/webhooks --count 5 --report json",
		`8: curl -s -X POST $B/_mock/events -d {"type": "visitor.identified", "count": 3}`,
		"10: curl -s $B/_mock/deliveries/5c1f.../wait?attempts=2",
		"11: bullseye-mock check ... --json",
		`12: echo -n {"a":1} | bullseye-mock sign --secret s`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("doc commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	script := strings.Join([]string{
		"curl $B/api/v1/partner/webhooks?x=1&y=2 -H 'X-Partner-API-Key: k'",
		"status 0 bullseye-mock send visitor.identified --url $RX/webhooks --count 5 &bg&",
		"[exec:x] ! exec bullseye-mock send visitor.identified --url $RX/webhooks --count 5 --report json",
		`curl -s -X POST $B/_mock/events -d '{"type": "visitor.identified", "count": 3}'`,
		"curl -s $B/_mock/deliveries/$ID/wait?attempts=2",
		"status 0 bullseye-mock check --url $RX/ --secret s --json # a comment",
		`echo -n '{"a":1}' | bullseye-mock sign --secret s`,
	}, "\n")
	scripts := scriptCommandsIn(script)
	for _, c := range cmds {
		if !replayedBy(c, scripts) {
			t.Errorf("%d: %s: not matched", c.line, c)
		}
	}
	// Each changed: a flag, a value, a URL, a header, a word more.
	changed := scriptCommandsIn(strings.Join([]string{
		"curl $B/api/v1/partner/webhooks?x=1&y=3 -H 'X-Partner-API-Key: k'",
		"bullseye-mock send visitor.identified --url $B/webhooks --count 5",
		"bullseye-mock send visitor.identified --url $RX/webhooks --count 5 --report text",
		`curl -s -X POST $B/_mock/events -d '{"type": "visitor.identified", "count": 4}'`,
		"curl -s $B/_mock/deliveries/$ID/wait?attempts=3",
		"bullseye-mock check --json",
		`echo -n '{"a":2}' | bullseye-mock sign --secret s`,
	}, "\n"))
	for i, c := range cmds {
		if replayedBy(c, changed) {
			t.Errorf("%d: %s: matched a changed command (%d)", c.line, c, i)
		}
	}
}
