package shm

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBufferSeals(t *testing.T) {
	const size = 4 * 4096
	m, ro, err := CreateProducer("test-buffer", size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer ro.Close()
	m.Data[0] = 42 // the owner's mapping stays writable

	t.Run("map handed-out fd writable", func(t *testing.T) {
		_, err := unix.Mmap(int(ro.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if !errors.Is(err, unix.EACCES) {
			t.Fatalf("mmap PROT_WRITE of the read-only fd: %v, want EACCES", err)
		}
	})
	t.Run("resize", func(t *testing.T) {
		for _, n := range []int64{size / 2, size * 2} {
			if err := unix.Ftruncate(int(m.File.Fd()), n); !errors.Is(err, unix.EPERM) {
				t.Errorf("ftruncate(%d) on the owner's fd: %v, want EPERM", n, err)
			}
		}
		if err := unix.Ftruncate(int(ro.Fd()), size/2); err == nil {
			t.Error("ftruncate on the read-only fd succeeded")
		}
	})
	t.Run("reopen read-write", func(t *testing.T) {
		// Even a consumer that re-opens the fd read-write through /proc is
		// stopped by F_SEAL_FUTURE_WRITE.
		fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", ro.Fd()), unix.O_RDWR, 0)
		if err != nil {
			t.Skipf("re-open read-write refused outright: %v", err)
		}
		defer unix.Close(fd)
		if _, err := unix.Write(fd, []byte("x")); !errors.Is(err, unix.EPERM) {
			t.Errorf("write: %v, want EPERM", err)
		}
		if _, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); !errors.Is(err, unix.EPERM) {
			t.Errorf("mmap writable: %v, want EPERM", err)
		}
	})
	t.Run("punch a hole", func(t *testing.T) {
		// A hole would zero pages under the writers' feet.
		if err := unix.Fallocate(int(ro.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096); err == nil {
			t.Error("hole punched through the read-only fd")
		}
		fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", ro.Fd()), unix.O_RDWR, 0)
		if err != nil {
			return // refused outright: fine
		}
		defer unix.Close(fd)
		if err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096); !errors.Is(err, unix.EPERM) {
			t.Errorf("punch hole through a read-write re-open: %v, want EPERM", err)
		}
		if m.Data[0] != 42 {
			t.Error("the producer's data changed")
		}
	})
	t.Run("mprotect read-only mapping", func(t *testing.T) {
		f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", ro.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		rm, err := MapReadOnly(f)
		if err != nil {
			t.Fatal(err)
		}
		defer rm.Close()
		if rm.Data[0] != 42 {
			t.Errorf("consumer sees %d, want the producer's 42", rm.Data[0])
		}
		if err := unix.Mprotect(rm.Data, unix.PROT_READ|unix.PROT_WRITE); !errors.Is(err, unix.EACCES) {
			t.Errorf("mprotect PROT_WRITE: %v, want EACCES", err)
		}
	})
}

func TestConsumerMapping(t *testing.T) {
	m, ro, err := CreateConsumer("test-consumer", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer ro.Close()
	if err := unix.Ftruncate(int(m.File.Fd()), 8192); !errors.Is(err, unix.EPERM) {
		t.Errorf("grow consumer region: %v, want EPERM", err)
	}
	dup, err := unix.Dup(int(m.File.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := MapConsumer(os.NewFile(uintptr(dup), "consumer"))
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[8] = 7 // the consumer may write its words
	if m.Data[8] != 7 {
		t.Error("consumer's write not visible to the producer")
	}
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cm.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The read-only re-open (an observer's) cannot be mapped writable.
	if _, err := unix.Mmap(int(ro.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); !errors.Is(err, unix.EACCES) {
		t.Errorf("mmap PROT_WRITE of the read-only consumer fd: %v, want EACCES", err)
	}
}
