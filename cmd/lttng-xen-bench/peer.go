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

// The LTTng-UST peer: bench/ust/ustbench.c writes the same two-integer
// event (u64 op, u32 vcpu) from one thread through an LTTng-UST tracepoint
// into a live session (8 MiB x 8 per-CPU sub-buffers, so nothing is
// discarded), and reports its CPU time per event, like our figure.

// peerFigures builds and runs the UST app, interleaved with our own
// single-writer run, and adds the ratio ours / LTTng-UST.
func peerFigures(o *options, rep *Report, e prodEvent, reps int) error {
	for _, tool := range []string{"lttng", "lttng-sessiond", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: install lttng-tools, liblttng-ust-dev and gcc (apt-get install lttng-tools liblttng-ust-dev gcc)", tool)
		}
	}
	dir, err := os.MkdirTemp(o.work, "ust.")
	if err != nil {
		return err
	}
	src := filepath.Join(o.src, "bench", "ust")
	app := filepath.Join(dir, "ustbench")
	cc := exec.Command("gcc", "-O2", "-I"+src, "-o", app, filepath.Join(src, "ustbench.c"), filepath.Join(src, "tp.c"), "-llttng-ust", "-ldl")
	if out, err := cc.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", src, err, out)
	}
	stop, err := startSessiond(dir)
	if err != nil {
		return err
	}
	defer stop()
	sess := fmt.Sprintf("lttngxenbench%d", os.Getpid())
	lttng := func(args ...string) error {
		out, err := exec.Command("lttng", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("lttng %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := lttng("create", sess, "--output="+filepath.Join(dir, "trace")); err != nil {
		return err
	}
	defer lttng("destroy", sess)
	for _, args := range [][]string{
		{"enable-channel", "-u", "-s", sess, "--subbuf-size", "8M", "--num-subbuf", "8", "ch"},
		{"enable-event", "-u", "-s", sess, "-c", "ch", "lttngxen_bench:hypercall_entry"},
		{"start", sess},
	} {
		if err := lttng(args...); err != nil {
			return err
		}
	}
	n := 1_000_000 // 1.1 M events x ~32 B fit the 64 MiB per-CPU buffer: none discarded
	ch, err := warmChannel(fastPath, e)
	if err != nil {
		return err
	}
	defer ch.close()
	var ust, ours []float64
	for range reps {
		cmd := exec.Command(app, strconv.Itoa(n))
		cmd.Env = append(os.Environ(), "LTTNG_UST_REGISTER_TIMEOUT=-1")
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("ustbench: %w", err)
		}
		var cpu, wall float64
		if _, err := fmt.Sscan(string(out), &cpu, &wall); err != nil {
			return fmt.Errorf("ustbench printed %q: %w", out, err)
		}
		ust = append(ust, cpu)
		r, err := runProducer(ch, fastPath, e, 1, n)
		if err != nil {
			return err
		}
		ours = append(ours, r.cpuNS)
	}
	f := Figure{Section: "1. producer", Name: fmt.Sprintf("%s, 1 writer vs LTTng-UST (same event, same run)", e.name), Unit: "ns/event",
		Value: stat(ours), Note: fastPath.name}.withBase("LTTng-UST 2.13 tracepoint, 1 thread", stat(ust))
	rep.add(f.check("ratio ≤ 0.5", *f.Ratio <= 0.5))
	return nil
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
