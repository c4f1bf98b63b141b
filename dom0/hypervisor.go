package dom0

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/poller"
	"github.com/lttng-xen/lttng-xen/internal/sockwait"
	"github.com/lttng-xen/lttng-xen/wire"
)

// hvLink is dom0's live connection to the hypervisor: the hypercall
// connection that bound VIRQ_TBUF, and the VIRQ eventfd.
type hvLink struct {
	// callMu makes a hypercall and its deadline one unit.
	callMu sync.Mutex
	conn   *wire.Conn
	virq   *os.File       // non-blocking eventfd, read through the runtime poller
	stop   *poller.Poller // woken to end watchHangup
}

// close ends the link. Waking stop ends watchHangup first, so the
// connection's Close (which waits for it) cannot hang.
func (l *hvLink) close() {
	l.stop.Wake()
	l.conn.Close()
	l.virq.Close()
	l.stop.Close()
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
	stop, err := poller.New()
	if err != nil {
		c.Close()
		files[0].Close()
		return nil, err
	}
	return &hvLink{conn: c, virq: files[0], stop: stop}, nil
}

// connectLoop binds to the hypervisor at path, waiting for the socket to
// (re)appear with inotify rather than retrying on a timer
// (sockwait.Retry). It returns nil once stop is woken.
//
// A socket that is absent or refuses connections (ENOENT, ECONNREFUSED:
// no hypervisor) is waited for with inotify alone: a new hypervisor
// creates it, and wire.Listen's chmod after listen(2) raises one more
// event once it accepts. A hypervisor that is there but turned us away (it
// hung up: full of connections; or "exists": the binding of the dom0 we
// replace is not released yet) sends no event when that changes, so those
// are retried after a bounded back-off, inotify still waking us earlier.
func connectLoop(path string, stop *poller.Poller, logf func(error)) *hvLink {
	var l *hvLink
	err := sockwait.Retry(path, stop, logf, func() sockwait.Result {
		var err error
		switch l, err = bind(path); {
		case err == nil:
			return sockwait.Done(nil)
		case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED):
			return sockwait.Absent(err)
		}
		return sockwait.Refused(err)
	})
	if err != nil {
		if !errors.Is(err, sockwait.ErrStopped) {
			logf(err)
		}
		return nil
	}
	return l
}

// watchHangup blocks until the hypervisor hangs up on l or l.stop is
// woken, without reading from the connection (replies to hypercalls in
// flight stay queued for their caller).
func watchHangup(l *hvLink) {
	rc, err := l.conn.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		_, _ = l.stop.Wait([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}, -1)
	})
}
