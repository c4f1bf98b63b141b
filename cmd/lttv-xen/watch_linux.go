package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/poller"
)

// watcher sleeps until a trace directory changes: one inotify watch on the
// directory, which reports the events of every file in it (the stream
// files' writes, the metadata's replacement by rename, stream files
// created later), waited for with a poller that [watcher.wake] wakes to
// end the wait. Wait belongs to one goroutine; wake may be called from any.
type watcher struct {
	ino    int // inotify descriptor, non-blocking
	poll   *poller.Poller
	buf    []byte
	closed atomic.Bool
}

// watchMask: a file in the directory was written (IN_MODIFY) or closed
// after writing, a file was created or renamed into it (lttd-xen replaces
// the metadata by rename), and the directory itself went away.
const watchMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_MOVED_TO |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// newWatcher watches dir. On error nothing is left open.
func newWatcher(dir string) (_ *watcher, err error) {
	w := &watcher{ino: -1, buf: make([]byte, 64<<10)}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if w.ino, err = unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC); err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err = unix.InotifyAddWatch(w.ino, dir, watchMask); err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	if w.poll, err = poller.New(); err != nil {
		return nil, err
	}
	return w, nil
}

// wait sleeps in poll(2) until the directory changes, then returns the
// events queued, or errWoken once wake has been called.
func (w *watcher) wait() (change, error) {
	pfd := []unix.PollFd{{Fd: int32(w.ino), Events: unix.POLLIN}}
	for {
		woken, err := w.poll.Wait(pfd, -1)
		switch {
		case err != nil:
			return change{}, err
		case woken:
			return change{}, errWoken
		case pfd[0].Revents != 0:
			return w.read()
		}
	}
}

// read drains the inotify descriptor.
func (w *watcher) read() (change, error) {
	var c change
	for {
		n, err := unix.Read(w.ino, w.buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return c, nil
		case err != nil:
			return c, fmt.Errorf("read inotify events: %w", err)
		}
		// struct inotify_event: wd, mask, cookie, len (native u32s), then
		// len bytes of NUL-padded name.
		for b := w.buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:])
			nameLen := int(binary.NativeEndian.Uint32(b[12:]))
			if unix.SizeofInotifyEvent+nameLen > len(b) {
				break
			}
			name := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+nameLen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				c.overflow = true
			case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0:
				c.gone = true
			case mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
				c.names = append(c.names, string(name))
			}
			b = b[unix.SizeofInotifyEvent+nameLen:]
		}
	}
}

// wake makes a wait in progress, or the next one, return errWoken. Safe
// from any goroutine, until close.
func (w *watcher) wake() { w.poll.Wake() }

// close releases both descriptors. It is idempotent; no wake may run
// concurrently with it or after it.
func (w *watcher) close() error {
	if !w.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if w.ino >= 0 {
		errs = append(errs, unix.Close(w.ino))
	}
	if w.poll != nil {
		errs = append(errs, w.poll.Close())
	}
	return errors.Join(errs...)
}
