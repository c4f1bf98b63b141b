package dom0

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// WakeupKind is how a reader is woken.
type WakeupKind string

const (
	// WakeupEventfd hands the reader an eventfd (the default).
	WakeupEventfd WakeupKind = "eventfd"
	// WakeupPipe hands the reader the read end of a pipe.
	WakeupPipe WakeupKind = "pipe"
)

// ParseWakeup checks a --wakeup value.
func ParseWakeup(s string) (WakeupKind, error) {
	switch WakeupKind(s) {
	case WakeupEventfd, "":
		return WakeupEventfd, nil
	case WakeupPipe:
		return WakeupPipe, nil
	}
	return "", fmt.Errorf("--wakeup %q: want eventfd or pipe", s)
}

// wakeup is one reader's wakeup channel. Raw descriptors, non-blocking:
// a reader that does not drain can never block xen_wakeup_readers.
type wakeup struct {
	kind  WakeupKind
	write int // eventfd, or the pipe's write end
	read  int // the descriptor handed to the reader (same as write for an eventfd)
}

func newWakeup(kind WakeupKind) (*wakeup, error) {
	switch kind {
	case WakeupPipe:
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("pipe2: %w", err)
		}
		return &wakeup{kind: kind, read: p[0], write: p[1]}, nil
	default:
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("eventfd: %w", err)
		}
		return &wakeup{kind: WakeupEventfd, read: fd, write: fd}, nil
	}
}

var eventOne = binary.NativeEndian.AppendUint64(nil, 1)

// signal makes the reader's descriptor readable. EAGAIN (pipe full,
// eventfd saturated) means a wakeup is already pending: nothing is lost.
func (w *wakeup) signal() {
	if w.kind == WakeupPipe {
		_, _ = unix.Write(w.write, []byte{1})
		return
	}
	_, _ = unix.Write(w.write, eventOne)
}

// handedOut closes dom0's copy of the read end once it has been sent.
func (w *wakeup) handedOut() {
	if w.kind == WakeupPipe && w.read >= 0 {
		unix.Close(w.read)
		w.read = -1
	}
}

func (w *wakeup) close() {
	if w.read >= 0 && w.read != w.write {
		unix.Close(w.read)
	}
	unix.Close(w.write)
}
