package dom0

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/wire"
)

// hvLink is dom0's live connection to the hypervisor: the hypercall
// connection that bound VIRQ_TBUF, and the VIRQ eventfd.
type hvLink struct {
	// callMu makes a hypercall and its deadline one unit.
	callMu sync.Mutex
	conn   *wire.Conn
	virq   *os.File // non-blocking eventfd, read through the runtime poller
	stop   int      // eventfd: written to end watchHangup
}

// close ends the link. The write to stop wakes watchHangup first, so the
// connection's Close (which waits for it) cannot hang.
func (l *hvLink) close() {
	_, _ = unix.Write(l.stop, eventOne)
	l.conn.Close()
	l.virq.Close()
	unix.Close(l.stop)
}

// bind dials the hypervisor and binds VIRQ_TBUF.
func bind(path string) (*hvLink, error) {
	c, err := wire.Dial(path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, files, err := c.Call(&wire.Request{Op: wire.OpBindVIRQ})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bind_virq: %w", err)
	}
	c.SetDeadline(time.Time{})
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		c.Close()
		files[0].Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &hvLink{conn: c, virq: files[0], stop: stop}, nil
}

// connectLoop binds to the hypervisor at path, waiting for the socket to
// (re)appear with inotify rather than retrying on a timer. It returns nil
// when stop becomes readable.
//
// A socket that is absent or refuses connections (ENOENT, ECONNREFUSED:
// no hypervisor) is waited for with inotify alone: a new hypervisor
// creates it, and wire.Listen's chmod after listen(2) raises one more
// event once it accepts. A hypervisor that is there but turned us away (it
// hung up: full of connections; or "exists": the binding of the dom0 we
// replace is not released yet) sends no event when that changes, so those
// are retried after a bounded back-off (50 ms doubling to 2 s), inotify
// still waking us earlier.
func connectLoop(path string, stop int, logf func(error)) *hvLink {
	ino, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		logf(fmt.Errorf("inotify: %w", err))
		return nil
	}
	defer unix.Close(ino)
	if _, err := unix.InotifyAddWatch(ino, filepath.Dir(path), unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ATTRIB); err != nil {
		logf(fmt.Errorf("watch %s: %w", filepath.Dir(path), err))
		return nil
	}
	buf := make([]byte, 4096)
	backoff := time.Duration(0)
	for {
		// Try after the watch is set, so a socket created in between is
		// not missed.
		l, err := bind(path)
		if err == nil {
			return l
		}
		logf(err)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
			backoff = 0
		} else {
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
		}
		timeout := -1
		if backoff > 0 {
			timeout = int(backoff / time.Millisecond)
		}
		for {
			pfd := []unix.PollFd{{Fd: int32(ino), Events: unix.POLLIN}, {Fd: int32(stop), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfd, timeout); err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				logf(fmt.Errorf("poll: %w", err))
				return nil
			}
			if pfd[1].Revents != 0 {
				return nil
			}
			break
		}
		for {
			n, err := unix.Read(ino, buf)
			if n > 0 && err == nil {
				continue
			}
			if err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
				logf(fmt.Errorf("read inotify: %w", err))
				return nil
			}
			break
		}
	}
}

// watchHangup blocks until the hypervisor hangs up on l or l.stop is
// written, without reading from the connection (replies to hypercalls in
// flight stay queued for their caller).
func watchHangup(l *hvLink) {
	rc, err := l.conn.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		for {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}, {Fd: int32(l.stop), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfd, -1); errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
	})
}
