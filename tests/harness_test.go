package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// binDir holds the commands built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lttng-xen-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	args := []string{"build", "-o", dir + "/"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../cmd/...")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the commands:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func bin(name string) string { return filepath.Join(binDir, name) }

// daemon is a background process of a session.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	stdout *lockedBuffer
	done   chan struct{}
	err    error
}

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

// session is a private run directory with its daemons.
type session struct {
	t      *testing.T
	runDir string
	procs  []*daemon
}

func newSession(t *testing.T) *session {
	t.Helper()
	dir, err := os.MkdirTemp("", "lx")
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, runDir: dir}
	t.Cleanup(func() {
		for i := len(s.procs) - 1; i >= 0; i-- {
			s.terminate(s.procs[i])
		}
		os.RemoveAll(dir)
	})
	return s
}

// env is the environment of the session's processes: its run directory, and a $HOME of
// its own (the default output directory of create is under it).
func (s *session) env() []string {
	return append(os.Environ(), "LTTNG_XEN_RUN_DIR="+s.runDir, "HOME="+filepath.Join(s.runDir, "home"))
}

// start runs a daemon and waits until its stderr shows ready (a line
// containing readyMark), failing the test if it exits first.
func (s *session) start(name, readyMark string, args ...string) *daemon {
	s.t.Helper()
	d := &daemon{name: name, stderr: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin(name), args...)
	d.cmd.Env = s.env()
	d.cmd.Stdout = d.stdout
	pr, pw := io.Pipe()
	d.cmd.Stderr = pw
	if err := d.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			d.stderr.Write([]byte(line + "\n"))
			if !once && strings.Contains(line, readyMark) {
				once = true
				close(ready)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		d.err = d.cmd.Wait()
		pw.Close()
		close(d.done)
	}()
	s.procs = append(s.procs, d)
	select {
	case <-ready:
	case <-d.done:
		s.t.Fatalf("%s exited before it was ready: %v\n%s", name, d.err, d.stderr)
	case <-time.After(30 * time.Second):
		s.t.Fatalf("%s not ready after 30s:\n%s", name, d.stderr)
	}
	return d
}

// startDaemons starts a hypervisor and dom0.
func (s *session) startDaemons(hvArgs []string, dom0Args ...string) (hv, d0 *daemon) {
	hv = s.start("hypervisor", "hypervisor ready", hvArgs...)
	d0 = s.start("dom0", "bound VIRQ_TBUF", dom0Args...)
	return hv, d0
}

// terminate sends SIGTERM and waits; a daemon still alive after 20 s is
// killed and the test fails.
func (s *session) terminate(d *daemon) {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		s.t.Errorf("%s ignored SIGINT for 20s:\n%s", d.name, d.stderr)
	}
}

// wait waits for d to exit and returns its exit code.
func (s *session) wait(d *daemon, timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		s.t.Fatalf("%s still running after %v:\n%s", d.name, timeout, d.stderr)
	}
	var ee *exec.ExitError
	if errors.As(d.err, &ee) {
		return ee.ExitCode()
	}
	if d.err != nil {
		s.t.Fatalf("%s: %v", d.name, d.err)
	}
	return 0
}

// result of a one-shot command.
type result struct {
	code           int
	stdout, stderr string
}

func (s *session) run(name string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(name), args...)
	cmd.Env = s.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// ctl runs lttctl-xen and fails the test unless it exits 0. A create without --output or
// --no-output gets --no-output: most tests run their own lttd-xen (startConsumer).
func (s *session) ctl(args ...string) string {
	s.t.Helper()
	if len(args) > 0 && args[0] == "create" && !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--output") || a == "--no-output"
	}) {
		args = append(slices.Clone(args), "--no-output")
	}
	r := s.run("lttctl-xen", args...)
	if r.code != 0 {
		s.t.Fatalf("lttctl-xen %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (s *session) status() wire.Status {
	s.t.Helper()
	var st wire.Status
	out := s.ctl("status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		s.t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st
}

// startConsumer starts lttd-xen writing to a new directory.
func (s *session) startConsumer(out string, args ...string) *daemon {
	return s.start("lttd-xen", "consuming", append([]string{"--output", out}, args...)...)
}
