// Package sockwait waits for a unix socket to (re)appear, the way dom0
// waits for the hypervisor and lttd-xen for dom0: try, and between tries
// sleep until the socket's directory changes (inotify), with no timer, or,
// when the peer is there but turned us away (which raises no inotify
// event), after a bounded back-off.
//
//	err := sockwait.Retry(path, p, func() sockwait.Result {
//		c, err := wire.Dial(path, 2*time.Second)
//		if err != nil {
//			return sockwait.Absent(err) // wait for the directory to change
//		}
//		if err := use(c); err != nil {
//			return sockwait.Refused(err) // back off, then try again
//		}
//		return sockwait.Done(nil)
//	})
package sockwait

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/poller"
)

// ErrStopped is returned by Retry when the poller was woken.
var ErrStopped = errors.New("stopped while waiting for the socket")

// Back-off bounds for a peer that is there but turned us away.
const (
	MinBackoff = 50 * time.Millisecond
	MaxBackoff = 2 * time.Second
)

// Result is what one try came to.
type Result struct {
	kind int
	Err  error
}

const (
	done = iota
	absent
	refused
)

// Done ends Retry with err (nil: success).
func Done(err error) Result { return Result{done, err} }

// Absent: the socket is not there or nobody accepts on it; wait for its
// directory to change. err is for the log.
func Absent(err error) Result { return Result{absent, err} }

// Refused: the peer is there but turned us away; try again after the
// back-off (inotify may still wake us earlier). err is for the log.
func Refused(err error) Result { return Result{refused, err} }

// Retry calls try until it returns Done, and returns Done's error; or
// ErrStopped once p is woken. The watch on path's directory is set before
// the first try, so a socket created in between is not missed. logf, if
// not nil, is told every failed try.
func Retry(path string, p *poller.Poller, logf func(error), try func() Result) error {
	ino, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	defer unix.Close(ino)
	dir := filepath.Dir(path)
	if _, err := unix.InotifyAddWatch(ino, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ATTRIB); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	buf := make([]byte, 4096)
	backoff := time.Duration(0)
	fds := []unix.PollFd{{Fd: int32(ino), Events: unix.POLLIN}}
	for {
		r := try()
		if r.kind == done {
			return r.Err
		}
		if logf != nil && r.Err != nil {
			logf(r.Err)
		}
		timeout := time.Duration(-1)
		if r.kind == refused {
			backoff = min(max(2*backoff, MinBackoff), MaxBackoff)
			timeout = backoff
		} else {
			backoff = 0
		}
		woken, err := p.Wait(fds, timeout)
		if err != nil {
			return err
		}
		if woken {
			return ErrStopped
		}
		if err := drain(ino, buf); err != nil {
			return err
		}
	}
}

// drain reads every queued inotify event (their content does not matter:
// any change is a reason to try again).
func drain(ino int, buf []byte) error {
	for {
		n, err := unix.Read(ino, buf)
		switch {
		case n > 0 && err == nil:
			continue
		case err == nil, errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return fmt.Errorf("read inotify: %w", err)
	}
}
