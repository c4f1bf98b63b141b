// Package poller is the one place that blocks in poll(2) for the daemons
// and tools: a set of descriptors plus a private stop eventfd, so that any
// goroutine (a signal handler's) can wake the waiter, with EINTR retried.
// There is no timer unless the caller asks for a timeout.
//
//	p, err := poller.New()
//	...
//	defer p.Close()
//	go func() { <-ctx.Done(); p.Wake() }()
//	fds := []unix.PollFd{{Fd: int32(wakeFD), Events: unix.POLLIN}}
//	for {
//		woken, err := p.Wait(fds, -1)
//		if err != nil || woken {
//			return err
//		}
//		// fds[0].Revents says what happened.
//	}
package poller

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Poller owns the stop eventfd. Wait is used by one goroutine at a time;
// Wake and Close may be called from any goroutine.
type Poller struct {
	stop   int
	closed atomic.Bool
	fds    []unix.PollFd // Wait's scratch: the caller's descriptors, then stop
}

// New makes a Poller.
func New() (*Poller, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &Poller{stop: fd}, nil
}

var one = []byte{1, 0, 0, 0, 0, 0, 0, 0}

// Wake makes the current or next Wait return woken. It stays set: every
// later Wait returns at once (a stop is final).
func (p *Poller) Wake() {
	if !p.closed.Load() {
		_, _ = unix.Write(p.stop, one)
	}
}

// Woken reports whether Wake was called, without blocking.
func (p *Poller) Woken() bool {
	pfd := []unix.PollFd{{Fd: int32(p.stop), Events: unix.POLLIN}}
	n, _ := unix.Poll(pfd, 0)
	return n > 0
}

// Wait blocks until one of fds is ready for its events (each fd's Revents
// is set), Wake is called (woken, with every Revents cleared), or timeout
// passes (a negative timeout: none). EINTR is retried with the time left.
func (p *Poller) Wait(fds []unix.PollFd, timeout time.Duration) (woken bool, err error) {
	if p.closed.Load() {
		return false, errors.New("poller: closed")
	}
	p.fds = append(append(p.fds[:0], fds...), unix.PollFd{Fd: int32(p.stop), Events: unix.POLLIN})
	deadline := time.Now().Add(timeout)
	for {
		ms := -1
		if timeout >= 0 {
			ms = int(max(time.Until(deadline), 0) / time.Millisecond)
		}
		_, err := unix.Poll(p.fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		break
	}
	if p.fds[len(fds)].Revents != 0 {
		for i := range fds {
			fds[i].Revents = 0
		}
		return true, nil
	}
	for i := range fds {
		fds[i].Revents = p.fds[i].Revents
	}
	return false, nil
}

// Close releases the eventfd. It is idempotent; Wait must not be running.
func (p *Poller) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	return unix.Close(p.stop)
}
