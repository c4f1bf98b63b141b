package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Seals. The buffer gets all three once its owner has mapped it writable:
// nobody can resize it (a shrink would SIGBUS the writers) and nobody can
// create a new writable mapping or write(2) to it. The control page only
// gets the size seals: the consumer must map it read-write.
const (
	bufferSeals  = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_SEAL
	controlSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
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

// CreateControl makes the control page memfd (size bytes), maps it
// read-write and seals its size.
func CreateControl(name string, size int) (m *Mapping, err error) {
	m, err = createMapped(name, size)
	if err != nil {
		return nil, fmt.Errorf("control page: %w", err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if _, err = unix.FcntlInt(m.File.Fd(), unix.F_ADD_SEALS, controlSeals); err != nil {
		return nil, fmt.Errorf("control page: seal: %w", err)
	}
	return m, nil
}

// CreateBuffer makes the sub-buffer memfd (size bytes), maps it read-write
// for the producer, seals it, and returns a read-only re-open of it: the
// file to hand to consumers.
func CreateBuffer(name string, size int) (m *Mapping, ro *os.File, err error) {
	m, err = createMapped(name, size)
	if err != nil {
		return nil, nil, fmt.Errorf("buffer: %w", err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if _, err = unix.FcntlInt(m.File.Fd(), unix.F_ADD_SEALS, bufferSeals); err != nil {
		return nil, nil, fmt.Errorf("buffer: seal: %w", err)
	}
	ro, err = reopenReadOnly(m.File)
	if err != nil {
		return nil, nil, fmt.Errorf("buffer: %w", err)
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

// MapControl maps a control page file read-write (the consumer's view).
// The Mapping takes ownership of f.
func MapControl(f *os.File) (*Mapping, error) {
	return mapFile(f, unix.PROT_READ|unix.PROT_WRITE)
}

// MapBuffer maps a buffer file read-only (the consumer's view). The
// Mapping takes ownership of f.
func MapBuffer(f *os.File) (*Mapping, error) {
	return mapFile(f, unix.PROT_READ)
}

func mapFile(f *os.File, prot int) (*Mapping, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("fstat %s: %w", f.Name(), err)
	}
	if st.Size <= 0 || st.Size > MaxTotalSize {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooSmall, f.Name(), st.Size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	return &Mapping{Data: data, File: f}, nil
}
