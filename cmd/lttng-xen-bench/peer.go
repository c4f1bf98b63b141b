package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The LTTng-UST peer: ust/ustbench.c writes the same two-integer event
// (u64 op, u32 vcpu) through an LTTng-UST tracepoint into a live session
// (8 MiB x 8 per-CPU sub-buffers, so nothing is discarded) from 1, 2 or 4
// threads, and reports the process's CPU time per event, like our figure.

// ustPeer is the built app in a started session.
type ustPeer struct {
	app   string
	dir   string
	stops []func()
}

// startUSTPeer builds the app and starts a session with the event enabled.
func startUSTPeer(o *options) (p *ustPeer, err error) {
	for _, tool := range []string{"lttng", "lttng-sessiond", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: install lttng-tools, liblttng-ust-dev and gcc (apt-get install lttng-tools liblttng-ust-dev gcc)", tool)
		}
	}
	dir, err := os.MkdirTemp(o.work, "ust.")
	if err != nil {
		return nil, err
	}
	p = &ustPeer{dir: dir, app: filepath.Join(dir, "ustbench")}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	src := filepath.Join(o.src, "cmd", "lttng-xen-bench", "ust")
	cc := exec.Command("gcc", "-O2", "-I"+src, "-o", p.app, filepath.Join(src, "ustbench.c"), filepath.Join(src, "tp.c"), "-llttng-ust", "-ldl", "-lpthread")
	if out, err := cc.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", src, err, out)
	}
	stop, err := startSessiond(dir)
	if err != nil {
		return nil, err
	}
	p.stops = append(p.stops, stop)
	sess := fmt.Sprintf("lttngxenbench%d", os.Getpid())
	lttng := func(args ...string) error {
		out, err := exec.Command("lttng", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("lttng %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := lttng("create", sess, "--output="+filepath.Join(dir, "trace")); err != nil {
		return nil, err
	}
	p.stops = append(p.stops, func() { _ = lttng("destroy", sess) })
	for _, args := range [][]string{
		{"enable-channel", "-u", "-s", sess, "--subbuf-size", "8M", "--num-subbuf", "8", "ch"},
		{"enable-event", "-u", "-s", sess, "-c", "ch", "lttngxen_bench:hypercall_entry"},
		{"start", sess},
	} {
		if err := lttng(args...); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// run writes n events from threads threads and returns the CPU ns/event.
// 1.1 M events x ~32 B fit a 64 MiB per-CPU buffer: none is discarded.
func (p *ustPeer) run(n, threads int) (float64, error) {
	cmd := exec.Command(p.app, strconv.Itoa(n), strconv.Itoa(threads))
	cmd.Env = append(os.Environ(), "LTTNG_UST_REGISTER_TIMEOUT=-1")
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("ustbench %d %d: %w", n, threads, err)
	}
	var cpu, wall float64
	if _, err := fmt.Sscan(string(out), &cpu, &wall); err != nil {
		return 0, fmt.Errorf("ustbench printed %q: %w", out, err)
	}
	return cpu, nil
}

// close destroys the session, stops a session daemon it started and
// removes the app. Idempotent.
func (p *ustPeer) close() {
	for i := len(p.stops) - 1; i >= 0; i-- {
		p.stops[i]()
	}
	p.stops = nil
	os.RemoveAll(p.dir)
}

// startSessiond starts a private lttng-sessiond (user space only) unless
// one already answers, and returns how to stop it.
func startSessiond(dir string) (func(), error) {
	if exec.Command("lttng", "list").Run() == nil {
		return func() {}, nil // a session daemon is running: use it, leave it
	}
	cmd := exec.Command("lttng-sessiond", "--no-kernel")
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lttng-sessiond: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	for i := 0; ; i++ {
		if exec.Command("lttng", "list").Run() == nil {
			return stop, nil
		}
		if i == 100 {
			stop()
			return nil, errors.New("lttng-sessiond did not answer within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
