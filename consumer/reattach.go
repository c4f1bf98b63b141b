package consumer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/internal/sockwait"
	"github.com/lttng-xen/lttng-xen/wire"
)

// reattach runs after dom0 closed the connection (every delivered packet
// has been written). It keeps the mapping (the memory stays valid as long
// as it is mapped, whatever happens to dom0 or the hypervisor) and:
//
//  1. waits for dom0's socket to accept a connection (sockwait.Retry: it
//     tries to dial, and after a refusal sleeps in poll(2) on an inotify
//     watch of the run directory, where a new dom0 creates its socket, and
//     on the Stop poller; no timer);
//  2. asks the new dom0 to map the trace: no_trace or unavailable (dom0
//     is up but the hypervisor is not, or has no trace) means the trace is
//     gone: [ErrTraceGone];
//  3. checks that the control file handed out is the very file it has
//     mapped (same inode): another file means another trace: [ErrTraceGone];
//  4. keeps that mapping reference (the descriptors are closed: the old
//     mapping is the same memory) and registers as a reader again (poll).
//
// It returns nil once attached, sockwait.ErrStopped if Stop was called meanwhile,
// or an error that ends the run.
func (c *Consumer) reattach() error {
	c.dropConn()
	path := c.cfg.Dom0Socket
	if path == "" {
		return fmt.Errorf("%w: %w", errHangup, ErrTraceGone)
	}
	c.log.Warn("dom0 closed the connection; waiting for it to come back (the mapping is kept)", "socket", path)
	logf := func(err error) { c.log.Debug("re-attach: not yet", "err", err) }
	return sockwait.Retry(path, c.poll, logf, func() sockwait.Result {
		conn, err := c.redial(path)
		if errors.Is(err, rundir.ErrUntrusted) {
			return sockwait.Done(err)
		}
		if err != nil {
			return sockwait.Absent(err)
		}
		err = c.attach(conn)
		var re *wire.RemoteError
		switch {
		case err == nil:
			c.stats.Reconnects++
			c.log.Info("re-attached to dom0", "reconnects", c.stats.Reconnects)
			return sockwait.Done(nil)
		case errors.As(err, &re) || errors.Is(err, ErrTraceGone):
			return sockwait.Done(err)
		}
		// dom0 accepted then hung up (it is going away again, or is full):
		// no inotify event may follow, so retry after a back-off.
		return sockwait.Refused(err)
	})
}

// redial dials dom0 at path again (Config.Redial, if set).
func (c *Consumer) redial(path string) (*wire.Conn, error) {
	if c.cfg.Redial != nil {
		return c.cfg.Redial()
	}
	return wire.Dial(path, 2*time.Second)
}

// attach maps the trace through a new connection to dom0 and checks it
// is the trace already mapped; then it registers as a reader. On error
// conn is closed.
func (c *Consumer) attach(conn *wire.Conn) (err error) {
	defer func() {
		if err != nil {
			c.dropConn()
		}
	}()
	c.setConn(conn)
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	rep, files, err := conn.Call(&wire.Request{Op: wire.OpMap, Map: c.mapArgs()})
	if err != nil {
		if errors.Is(err, wire.ErrNoTrace) || errors.Is(err, wire.ErrUnavailable) {
			return fmt.Errorf("%w: dom0 is back but serves no trace: %w", ErrTraceGone, err)
		}
		return fmt.Errorf("map the trace: %w", err)
	}
	c.mapID = rep.MapID
	same, serr := sameFile(files[0], c.ctrlMap.File)
	for _, f := range files {
		f.Close()
	}
	if serr != nil {
		return serr
	}
	if !same {
		return fmt.Errorf("%w: dom0 is back but serves another trace", ErrTraceGone)
	}
	if err := c.register(); err != nil {
		return err
	}
	conn.SetDeadline(time.Time{})
	return nil
}

// sameFile reports whether a and b are the same file (device and inode).
func sameFile(a, b *os.File) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Fstat(int(a.Fd()), &sa); err != nil {
		return false, fmt.Errorf("fstat: %w", err)
	}
	if err := unix.Fstat(int(b.Fd()), &sb); err != nil {
		return false, fmt.Errorf("fstat: %w", err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}
