package hypervisor

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// virq is VIRQ_TBUF: an eventfd the hypervisor signals and dom0 reads. It
// is kept as a raw descriptor (os.File.Fd would switch the shared file
// description to blocking mode under dom0's feet). The hypervisor holds at
// most one, swapped atomically when dom0 binds or goes away, so the write
// path (the Deliver hook, on any pCPU) raises it without a lock.
type virq struct {
	fd     int
	raised atomic.Uint64
}

func newVIRQ() (*virq, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &virq{fd: fd}, nil
}

var one = binary.NativeEndian.AppendUint64(nil, 1)

// raise adds one to the eventfd counter: one system call per delivered
// sub-buffer, never per event. EAGAIN (counter saturated) cannot lose a
// wakeup: dom0 has not read yet and will wake the readers, who take every
// delivered packet.
func (v *virq) raise() {
	v.raised.Add(1)
	_, _ = unix.Write(v.fd, one)
}

func (v *virq) close() error { return unix.Close(v.fd) }
