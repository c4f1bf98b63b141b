package dom0

import (
	"fmt"
	"os"
	"syscall"

	"github.com/lttng-xen/lttng-xen/wire"
)

// The tools' create, destroy and status, which dom0 does not just relay: a
// session created with an output directory gets a consumer (consumer.go).
// Only the client serving a create or destroy touches d.consumer besides
// Close; a second create fails in the hypervisor ("exists") before it
// could start a second consumer.

// create relays trace_create, then starts the session's consumer if the
// request names an output directory. If the consumer cannot start, the
// trace is destroyed again and create fails with the consumer's error.
func (d *Dom0) create(c *client, req *wire.Request) error {
	args := *req.Create
	output := args.Output
	args.Output = "" // dom0's business, not the hypervisor's
	var cred *syscall.Credential
	if output != "" {
		var err error
		if cred, err = consumerCredential(c.uid, c.gid); err != nil {
			return err
		}
		if d.cfg.Lttd == "" {
			return fmt.Errorf("dom0 has no lttd-xen to start for --output (none next to dom0 or on $PATH; start dom0 with --lttd PATH, or create with --no-output and run lttd-xen yourself): %w", wire.ErrUnavailable)
		}
		if prev := d.sessionConsumer(); prev != nil && !prev.exited() {
			return fmt.Errorf("the previous session's lttd-xen (pid %d) is still writing %s: %w",
				prev.cmd.Process.Pid, prev.output, wire.ErrBadState)
		}
	}
	rep, files, _, err := d.call(&wire.Request{Op: wire.OpTraceCreate, Create: &args})
	closeFiles(files)
	if err != nil {
		return err
	}
	if output != "" {
		cons, err := startConsumer(d.cfg.Lttd, d.cfg.RunDir, output, cred, d.log)
		if err != nil {
			if _, files, _, derr := d.call(&wire.Request{Op: wire.OpTraceDestroy}); derr != nil {
				d.log.Warn("destroy after the consumer failed", "err", derr)
			} else {
				closeFiles(files)
			}
			return withCode(err, wire.ErrBadRequest)
		}
		d.mu.Lock()
		closed := d.closed
		if !closed {
			d.consumer = cons
		}
		d.mu.Unlock()
		if closed { // Close has run stopConsumer already
			cons.stop(d.log)
		}
	}
	d.pmAfterRelay(wire.OpCreate) // hold the memory for a post-mortem snapshot
	return c.conn.Reply(rep)
}

// destroy relays trace_destroy, then waits (at most consumerDoneWait) for
// the session's consumer to write everything and exit, and replies with its
// summary.
func (d *Dom0) destroy(c *client, req *wire.Request) error {
	rep, files, _, err := d.call(&wire.Request{Op: wire.OpTraceDestroy})
	closeFiles(files)
	if err != nil {
		return err
	}
	d.pmAfterRelay(wire.OpDestroy) // the trace is gone: release the post-mortem hold
	d.mu.Lock()
	cons := d.consumer
	d.consumer = nil
	d.mu.Unlock()
	if cons == nil {
		return c.conn.Reply(rep)
	}
	if !cons.wait(consumerDoneWait) {
		d.mu.Lock()
		d.consumer = cons // still ours to stop at shutdown
		d.mu.Unlock()
		return fmt.Errorf("trace destroyed, but lttd-xen (pid %d) is still writing %s after %s (see dom0's log): %w",
			cons.cmd.Process.Pid, cons.output, consumerDoneWait, os.ErrDeadlineExceeded)
	}
	if err := cons.failure(); err != nil {
		return withCode(fmt.Errorf("trace destroyed, but %w", err), wire.ErrInternal)
	}
	if rep == nil {
		rep = &wire.Reply{}
	}
	rep.Summary = cons.summary()
	d.log.Info("consumer done", "summary", rep.Summary)
	return c.conn.Reply(rep)
}

// consumerCredential is who the consumer of a session created by the peer uid, gid runs as:
// the peer itself, so that it writes only where the peer may (nil: as dom0, when the peer is
// dom0's own uid). dom0 running as root switches to the peer's uid; dom0 running as another
// uid cannot, and refuses rather than write as itself where another user asked.
func consumerCredential(uid, gid uint32) (*syscall.Credential, error) {
	euid := uint32(os.Geteuid())
	switch {
	case uid == euid:
		return nil, nil
	case euid == 0:
		return &syscall.Credential{Uid: uid, Gid: gid}, nil
	}
	return nil, fmt.Errorf("dom0 runs as uid %d and cannot start a consumer as uid %d: create with --no-output and run lttd-xen yourself: %w",
		euid, uid, wire.ErrDenied)
}

// sessionConsumer returns the current session's consumer, nil if none.
func (d *Dom0) sessionConsumer() *consumer {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.consumer
}

// sessionStatus adds dom0's part of the session to st: the consumer's
// output directory while it runs.
func (d *Dom0) sessionStatus(st *wire.Status) {
	if cons := d.sessionConsumer(); cons != nil && !cons.exited() && st.State != wire.StateNone {
		st.Output = cons.output
	}
}

// stopConsumer stops the session's consumer at dom0's shutdown.
func (d *Dom0) stopConsumer() {
	d.mu.Lock()
	cons := d.consumer
	d.consumer = nil
	d.mu.Unlock()
	if cons != nil {
		cons.stop(d.log)
	}
}

// codedError is an error whose text is err's alone but that carries code's
// wire code (errors.Is matches both).
type codedError struct {
	err  error
	code *wire.RemoteError
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() []error { return []error{e.err, e.code} }

func withCode(err error, code *wire.RemoteError) error { return &codedError{err: err, code: code} }
