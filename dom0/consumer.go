package dom0

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The session's consumer. As lttng-sessiond starts lttng-consumerd, dom0
// starts an lttd-xen for a session created with an output directory, and
// the consumer lives exactly as long as the session: create answers once it
// has mapped the trace (or with its error, after destroying the trace
// again), destroy answers once it has written everything and exited, and
// dom0's shutdown stops it. dom0 reaps it; nothing else waits for it.

// consumerStopWait bounds how long dom0's shutdown waits for a consumer it
// asked to stop (SIGTERM: write what is delivered, unmap, exit) before it
// kills it.
const consumerStopWait = 20 * time.Second

// consumerDoneWait bounds how long destroy waits for the consumer to write
// the last packets and exit: less than the tools' default 60 s timeout,
// so that lttctl-xen hears why rather than timing out.
const consumerDoneWait = 45 * time.Second

// readyFD is the descriptor number lttd-xen --ready-fd writes "ready" to:
// the first of exec.Cmd.ExtraFiles.
const readyFD = 3

// consumer is one lttd-xen started by dom0. output and cmd are set before
// it is shared; the rest is written by its goroutines before done closes,
// and read after.
type consumer struct {
	output string
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process is reaped
	stdout bytes.Buffer  // its summary line (read after done)
	err    error         // what Wait returned (read after done)

	mu   sync.Mutex
	last string // its last line on stderr: the error it exited with
}

// startConsumer runs path (lttd-xen) writing the trace to output, with the
// sockets in runDir, and waits until it has mapped the trace and registered
// as a reader. If it exits first, the error is its own last line on stderr.
// It runs as cred (nil: as dom0); its log lines go to log.
func startConsumer(path, runDir, output string, cred *syscall.Credential, log *slog.Logger) (*consumer, error) {
	ready, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start lttd-xen: %w", err)
	}
	defer ready.Close()
	c := &consumer{output: output, done: make(chan struct{})}
	c.cmd = exec.Command(path, "--output", output, "--run-dir", runDir, "--ready-fd", fmt.Sprint(readyFD))
	c.cmd.Stdout = &c.stdout
	c.cmd.ExtraFiles = []*os.File{readyW}
	// Its own process group: a ^C at dom0's terminal reaches dom0, which
	// stops the consumer in order (see [consumer.stop]).
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		readyW.Close()
		return nil, fmt.Errorf("start lttd-xen: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		readyW.Close()
		return nil, fmt.Errorf("start lttd-xen (%s): %w", path, err)
	}
	readyW.Close()
	log = log.With("consumer", c.cmd.Process.Pid)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		c.relayLog(stderr, log)
	}()
	go func() {
		<-logged // Wait closes the pipe: read all of it first
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	line, _ := bufio.NewReader(ready).ReadString('\n')
	if strings.TrimSpace(line) == "ready" {
		log.Info("consumer started", "output", output)
		return c, nil
	}
	<-c.done
	return nil, c.failure()
}

// relayLog copies the consumer's stderr into dom0's log, keeping the last
// line.
func (c *consumer) relayLog(r io.Reader, log *slog.Logger) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		c.mu.Lock()
		c.last = line
		c.mu.Unlock()
		log.Info("lttd-xen", "line", line)
	}
	_, _ = io.Copy(io.Discard, r)
}

// failure explains how the consumer ended, once done: nil if it exited 0.
func (c *consumer) failure() error {
	if c.err == nil {
		return nil
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && last != "" {
		return errors.New(last)
	}
	if last != "" {
		return fmt.Errorf("lttd-xen: %w (%s)", c.err, last)
	}
	return fmt.Errorf("lttd-xen: %w", c.err)
}

// summary is the consumer's closing summary, once done: its line
// "lttd-xen: N packets, ..." and the per-stream lines after it.
func (c *consumer) summary() string {
	out := strings.TrimSpace(c.stdout.String())
	if i := strings.LastIndex(out, "lttd-xen: "); i >= 0 {
		return out[i:]
	}
	lines := strings.Split(out, "\n")
	return lines[len(lines)-1]
}

// exited reports whether the consumer has been reaped.
func (c *consumer) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// wait waits at most d for the consumer to exit, and says whether it did.
func (c *consumer) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// stop asks the consumer to write what is delivered and exit (SIGTERM), and
// kills it if it has not within consumerStopWait.
func (c *consumer) stop(log *slog.Logger) {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if c.wait(consumerStopWait) {
		return
	}
	log.Warn("consumer ignored SIGTERM; killing it", "pid", c.cmd.Process.Pid)
	_ = c.cmd.Process.Kill()
	<-c.done
}
