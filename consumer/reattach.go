package consumer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/wire"
)

// reattach runs after dom0 closed the connection (every delivered packet
// has been written). It keeps the mapping (the memory stays valid as long
// as it is mapped, whatever happens to dom0 or the hypervisor) and:
//
//  1. waits for dom0's socket to accept a connection: it tries to dial,
//     and after a refusal sleeps in poll(2) on an inotify watch of the run
//     directory (a new dom0 creates its socket there) and the stop eventfd;
//     no timer;
//  2. asks the new dom0 to map the trace: no_trace or unavailable (dom0
//     is up but the hypervisor is not, or has no trace) means the trace is
//     gone: [ErrTraceGone];
//  3. checks that the control file handed out is the very file it has
//     mapped (same inode): another file means another trace: [ErrTraceGone];
//  4. keeps that mapping reference (the descriptors are closed: the old
//     mapping is the same memory) and registers as a reader again (poll).
//
// It returns nil once attached, errStopped if Stop was called meanwhile,
// or an error that ends the run.
func (c *Consumer) reattach() error {
	c.dropConn()
	path := c.cfg.Dom0Socket
	if path == "" {
		return fmt.Errorf("%w: %w", errHangup, ErrTraceGone)
	}
	c.log.Warn("dom0 closed the connection; waiting for it to come back (the mapping is kept)", "socket", path)
	ino, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	defer unix.Close(ino)
	if _, err := unix.InotifyAddWatch(ino, filepath.Dir(path), unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ATTRIB); err != nil {
		return fmt.Errorf("watch %s: %w", filepath.Dir(path), err)
	}
	backoff := time.Duration(0)
	for {
		// Dial after the watch is set, so a socket created in between is
		// not missed.
		conn, err := wire.Dial(path, 2*time.Second)
		if err == nil {
			err = c.attach(conn)
			if err == nil {
				c.stats.Reconnects++
				c.log.Info("re-attached to dom0", "reconnects", c.stats.Reconnects)
				return nil
			}
			var re *wire.RemoteError
			if errors.As(err, &re) || errors.Is(err, ErrTraceGone) {
				return err
			}
			// dom0 accepted then hung up (it is going away again, or is
			// full): no inotify event may follow, so retry after a
			// bounded back-off rather than wait for one.
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
			c.log.Debug("re-attach failed; retrying", "err", err, "in", backoff)
		} else {
			backoff = 0
			c.log.Debug("dom0 not reachable yet", "err", err)
		}
		if stopped, err := c.waitEvent(ino, backoff); err != nil || stopped {
			if err == nil {
				err = errStopped
			}
			return err
		}
	}
}

// waitEvent sleeps until the inotify descriptor or the stop eventfd is
// readable (or, if backoff > 0, at most backoff), then drains inotify.
func (c *Consumer) waitEvent(ino int, backoff time.Duration) (stopped bool, err error) {
	timeout := -1
	if backoff > 0 {
		timeout = int(backoff / time.Millisecond)
	}
	pfd := []unix.PollFd{{Fd: int32(ino), Events: unix.POLLIN}, {Fd: int32(c.stop), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		break
	}
	if pfd[1].Revents != 0 {
		return true, nil
	}
	var buf [4096]byte
	for {
		if n, err := unix.Read(ino, buf[:]); n <= 0 || err != nil {
			return false, nil
		}
	}
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
	rep, files, err := conn.Call(&wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleConsumer}})
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
