package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/wire"
)

// The tests run the command in-process (newApp and cmdline.Run, as main does) against a
// fake dom0 that serves the tools' protocol on dom0.sock in a temporary run directory and
// answers with a scripted handler. They do not run in parallel: urfave/cli's help and
// version flags are package variables it writes to.

// handler answers one request: a reply, or an error sent with wire.ErrorReply.
type handler func(*wire.Request) (*wire.Reply, error)

// errHangUp makes the fake close the connection instead of answering.
var errHangUp = errors.New("hang up")

// remoteError is a server error with its own text and a wire code, as the hypervisor makes
// them: wire.ErrorReply sends the text whole with the code.
type remoteError struct {
	msg  string
	code *wire.RemoteError // a wire sentinel
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.code }

// fail is a handler that answers every request with the error.
func fail(msg string, code *wire.RemoteError) handler {
	return func(*wire.Request) (*wire.Reply, error) { return nil, &remoteError{msg: msg, code: code} }
}

// byOp is a handler that answers each op with its own handler; any other op is a test
// error (and an internal error for the command).
func byOp(t *testing.T, handlers map[wire.Op]handler) handler {
	return func(req *wire.Request) (*wire.Reply, error) {
		h, found := handlers[req.Op]
		if !found {
			t.Errorf("unexpected request %+v", req)
			return nil, &remoteError{msg: "unexpected op", code: wire.ErrInternal}
		}
		return h(req)
	}
}

// ok is a handler that answers every request with an empty success.
func ok(*wire.Request) (*wire.Reply, error) { return &wire.Reply{}, nil }

// fakeDom0 is a dom0 stand-in listening in its own run directory.
type fakeDom0 struct {
	dir    string
	handle handler

	mu    sync.Mutex
	reqs  []wire.Request // every request received, in order
	conns []*wire.Conn
}

// startFakeDom0 serves handle until the test ends.
func startFakeDom0(t *testing.T, handle handler) *fakeDom0 {
	t.Helper()
	d := &fakeDom0{dir: t.TempDir(), handle: handle}
	ln, err := wire.Listen(rundir.Path(d.dir, rundir.Dom0Socket))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			uc, err := ln.AcceptUnix()
			if err != nil {
				return // closed
			}
			conn := wire.NewConn(uc)
			d.mu.Lock()
			d.conns = append(d.conns, conn)
			d.mu.Unlock()
			wg.Go(func() { d.serve(conn) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		d.mu.Lock()
		for _, c := range d.conns {
			c.Close()
		}
		d.mu.Unlock()
		wg.Wait()
	})
	return d
}

func (d *fakeDom0) serve(conn *wire.Conn) {
	defer conn.Close()
	for {
		req, err := conn.RecvRequest(wire.Tools)
		if err != nil {
			var re *wire.RemoteError
			if errors.As(err, &re) && conn.ReplyError(err) == nil {
				continue
			}
			return
		}
		d.mu.Lock()
		d.reqs = append(d.reqs, *req)
		d.mu.Unlock()
		rep, err := d.handle(req)
		switch {
		case errors.Is(err, errHangUp):
			return
		case err != nil:
			err = conn.ReplyError(err)
		default:
			err = conn.Reply(rep)
		}
		if err != nil {
			return
		}
	}
}

// requests returns the requests received so far.
func (d *fakeDom0) requests() []wire.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]wire.Request(nil), d.reqs...)
}

// wantRequests checks the requests received so far.
func (d *fakeDom0) wantRequests(t *testing.T, want ...wire.Request) {
	t.Helper()
	got := d.requests()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dom0 received %+v, want %+v", got, want)
	}
}

// run runs the command with --run-dir set to the fake's directory.
func (d *fakeDom0) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, append([]string{"--run-dir", d.dir}, args...)...)
}

// runWith is run with the tool's hooks changed by setup first (see [runWith]).
func (d *fakeDom0) runWith(t *testing.T, setup func(*tool), args ...string) result {
	t.Helper()
	return runWith(t, setup, append([]string{"--run-dir", d.dir}, args...)...)
}

// testNow and testHome are the clock and $HOME of every run: automatic session names are
// auto-20260102-030405, default output directories under /home/user/lttng-traces.
var (
	testNow  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	testHome = "/nonexistent/home/user"
)

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command in-process with args (after the program name).
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, nil, args...)
}

// runWith is run with the tool's hooks changed by setup (if not nil) first.
func runWith(t *testing.T, setup func(*tool), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	tl := newTool(&stdout, &stderr)
	tl.now = func() time.Time { return testNow }
	tl.home = func() (string, error) { return testHome, nil }
	if setup != nil {
		setup(tl)
	}
	code := runCommand(tl.app(), append([]string{name}, args...))
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("lttctl-xen %s: exit %d\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// wantOK checks a successful run that printed stdout and nothing on stderr.
func (r result) wantOK(t *testing.T, stdout string) {
	t.Helper()
	if r.code != cmdline.ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	if r.stdout != stdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, stdout)
	}
}

// wantFail checks a failed run: the exit code, nothing on stdout, and one line
// "lttctl-xen: ..." on stderr holding every one of want.
func (r result) wantFail(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, name+": ") || !strings.HasSuffix(r.stderr, "\n") ||
		strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line %q", r.stderr, name+": ...")
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not contain %q", r.stderr, w)
		}
	}
}

// staleRunDir returns a run directory holding a dom0.sock nobody listens on, as a dom0
// that died leaves it.
func staleRunDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := wire.Listen(rundir.Path(dir, rundir.Dom0Socket))
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}
