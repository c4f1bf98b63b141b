package tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shell is one bash process fed command lines one at a time, as a user types them into a
// terminal: variables, the working directory and background jobs carry from one line to the
// next. It reads its script from a pipe (fd 3), so the commands' standard input is
// /dev/null, and reports each line's exit status on another (fd 4).
type shell struct {
	t      *testing.T
	dir    string
	env    []string
	cmd    *exec.Cmd
	script *os.File
	status *bufio.Reader
	stdout *lockedBuffer
	stderr *lockedBuffer
}

// newShell starts bash in dir with env. It is killed, with every process it started, when
// the test ends.
func newShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	scriptR, scriptW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	sh := &shell{t: t, dir: dir, env: env, script: scriptW, status: bufio.NewReader(statusR),
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	sh.cmd = exec.Command("bash", "--norc", "--noprofile", "/dev/fd/3")
	sh.cmd.Dir, sh.cmd.Env = dir, env
	sh.cmd.Stdout, sh.cmd.Stderr = sh.stdout, sh.stderr
	sh.cmd.ExtraFiles = []*os.File{scriptR, statusW}
	sh.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sh.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scriptR.Close()
	statusW.Close()
	t.Cleanup(func() {
		scriptW.Close()
		// The shell and its background jobs (daemons) share its process group.
		syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { sh.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		statusR.Close()
	})
	return sh
}

// run runs one line and returns its exit status and what the shell printed meanwhile
// (background jobs included).
func (sh *shell) run(line string) (code int, stdout, stderr string) {
	sh.t.Helper()
	o, e := len(sh.stdout.String()), len(sh.stderr.String())
	if _, err := fmt.Fprintf(sh.script, "%s\necho \"$?\" >&4\n", line); err != nil {
		sh.t.Fatalf("%s: the shell is gone: %v\n%s", line, err, sh.stderr)
	}
	type res struct {
		s   string
		err error
	}
	got := make(chan res, 1)
	go func() { s, err := sh.status.ReadString('\n'); got <- res{s, err} }()
	var r res
	select {
	case r = <-got:
	case <-time.After(3 * time.Minute):
		sh.t.Fatalf("%s: still running after 3 minutes\nstdout:\n%s\nstderr:\n%s", line, sh.stdout.String()[o:], sh.stderr.String()[e:])
	}
	if r.err != nil {
		sh.t.Fatalf("%s: the shell exited: %v\n%s", line, r.err, sh.stderr)
	}
	code, err := strconv.Atoi(strings.TrimSpace(r.s))
	if err != nil {
		sh.t.Fatalf("%s: status %q", line, r.s)
	}
	return code, sh.stdout.String()[o:], sh.stderr.String()[e:]
}

// waitStderr waits until the shell's standard error holds more than n lines containing
// mark: a background daemon's ready line.
func (sh *shell) waitStderr(mark string, n int, what string) {
	sh.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(sh.stderr.String(), mark) <= n {
		if time.Now().After(deadline) {
			sh.t.Fatalf("%s: no %q on stderr after 30s:\n%s", what, mark, sh.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interrupt runs line in its own bash and process group until it has printed something
// (or for 3 s when it prints nothing, its output going to a file), then sends SIGINT to the
// group, as ^C does, and returns its exit status and output.
func interrupt(t *testing.T, dir string, env []string, line string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb lockedBuffer
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", line)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	quiet := time.Now().Add(3 * time.Second)
	var err error
	exited := false
wait:
	for {
		select {
		case err = <-done:
			exited = true
			break wait
		case <-time.After(20 * time.Millisecond):
			if out.String() != "" || time.Now().After(quiet) {
				break wait
			}
		}
	}
	if !exited {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Fatalf("%s: still running 30 s after SIGINT", line)
		}
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		t.Fatalf("%s: %v", line, err)
	}
	return code, out.String(), errb.String()
}

// daemonOnce runs a daemon's command line (no '&') in a run directory of its own until it
// logs mark, then stops it with SIGTERM, and returns its exit status and standard error.
func daemonOnce(t *testing.T, dir string, env []string, line, mark string) (int, string) {
	t.Helper()
	runDir, err := os.MkdirTemp("", "lx")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(runDir)
	var errb lockedBuffer
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", "exec "+line)
	cmd.Dir = dir
	cmd.Env = append(env, "LTTNG_XEN_RUN_DIR="+filepath.Join(runDir, "run"))
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for !strings.Contains(errb.String(), mark) {
		select {
		case err := <-done:
			return waitCode(err), errb.String()
		case <-ctx.Done():
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: no %q after 30s:\n%s", line, mark, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	return waitCode(<-done), errb.String()
}

// waitCode is the exit status a Wait error stands for (-1: not an exit).
func waitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
