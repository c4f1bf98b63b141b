package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Seals. The control region and the buffer, which only the producer
// writes, get all of them once the producer has mapped them writable:
// nobody can resize them (a shrink would SIGBUS the writers) and nobody can
// create a new writable mapping or write(2) to them. The consumer region
// only gets the size seals: the consumer must map it read-write.
const (
	producerSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_SEAL
	consumerSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
)

// Mapping is a shared mapping of a memfd. Close unmaps it and closes the
// file; it is idempotent and safe to call from any goroutine once.
type Mapping struct {
	Data   []byte
	File   *os.File
	closed atomic.Bool
}

// Close unmaps and closes. Calling it twice is harmless.
func (m *Mapping) Close() error {
	if m == nil || !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if m.Data != nil {
		if err := unix.Munmap(m.Data); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
		m.Data = nil
	}
	if m.File != nil {
		errs = append(errs, m.File.Close())
	}
	return errors.Join(errs...)
}

// CreateProducer makes a producer-owned memfd (size bytes): the control
// region or the buffer. It maps it read-write for the producer, seals it,
// and returns a read-only re-open of it: the file to hand to consumers.
// A memfd's pages are allocated when first written, so parts the producer
// never writes (the rings of pCPUs that never came online) cost nothing.
func CreateProducer(name string, size int) (m *Mapping, ro *os.File, err error) {
	m, err = createMapped(name, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if _, err = unix.FcntlInt(m.File.Fd(), unix.F_ADD_SEALS, producerSeals); err != nil {
		return nil, nil, fmt.Errorf("%s: seal: %w", name, err)
	}
	ro, err = reopenReadOnly(m.File)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, ro, nil
}

// CreateConsumer makes the consumer region's memfd (size bytes), maps it
// read-write and seals its size.
func CreateConsumer(name string, size int) (m *Mapping, ro *os.File, err error) {
	m, err = createMapped(name, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if _, err = unix.FcntlInt(m.File.Fd(), unix.F_ADD_SEALS, consumerSeals); err != nil {
		return nil, nil, fmt.Errorf("%s: seal: %w", name, err)
	}
	ro, err = reopenReadOnly(m.File)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, ro, nil
}

// reopenReadOnly opens a new read-only file description for f through
// /proc/self/fd: a descriptor that can never be mapped writable.
func reopenReadOnly(f *os.File) (*os.File, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("re-open read-only: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()+" (read-only)"), nil
}

func createMapped(name string, size int) (m *Mapping, err error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: size %d", ErrTooSmall, size)
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("ftruncate %d: %w", size, err)
	}
	data, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return &Mapping{Data: data, File: f}, nil
}

// MapReadOnly maps a producer-owned file (the control region or the
// buffer) read-only: the consumer's view. The Mapping takes ownership of f.
func MapReadOnly(f *os.File) (*Mapping, error) {
	return mapFile(f, unix.PROT_READ)
}

// MapConsumer maps the consumer region read-write (the consumer's view).
// The Mapping takes ownership of f.
func MapConsumer(f *os.File) (*Mapping, error) {
	return mapFile(f, unix.PROT_READ|unix.PROT_WRITE)
}

func mapFile(f *os.File, prot int) (*Mapping, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("fstat %s: %w", f.Name(), err)
	}
	if st.Size <= 0 || st.Size > MaxTotalSize*MaxCPUs {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooSmall, f.Name(), st.Size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	return &Mapping{Data: data, File: f}, nil
}
