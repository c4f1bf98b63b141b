package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// reader is a measuring consumer: it maps the trace through dom0 like
// lttd-xen (map, metadata, poll over the tools protocol; shm.Consumer on
// the mappings), takes packets as they are delivered and, instead of
// writing them, records how long after its delivery each was read.
type reader struct {
	conn    *wire.Conn
	mapID   uint64
	ctrl    *shm.Mapping
	cons    *shm.Mapping
	buf     *shm.Mapping
	ring    *shm.Consumer
	wake    *os.File // nil until register
	toNS    func(uint64) uint64
	now     func() uint64 // the trace clock
	stopFD  int
	latency []float64 // µs, delivery (timestamp_end) to read, per packet
}

// openReader maps the trace dom0 (socket path) serves.
func openReader(sock string) (r *reader, err error) {
	conn, err := wire.Dial(sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	r = &reader{conn: conn, stopFD: -1}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	rep, files, err := conn.Call(&wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleConsumer}})
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	r.mapID = rep.MapID
	if r.ctrl, err = shm.MapReadOnly(files[0]); err != nil {
		files[1].Close()
		files[2].Close()
		return nil, err
	}
	if r.cons, err = shm.MapConsumer(files[1]); err != nil {
		files[2].Close()
		return nil, err
	}
	if r.buf, err = shm.MapReadOnly(files[2]); err != nil {
		return nil, err
	}
	if r.ring, err = shm.NewConsumer(r.ctrl.Data, r.cons.Data, r.buf.Data); err != nil {
		return nil, err
	}
	// The clock: timestamps are CLOCK_MONOTONIC ns unless the metadata
	// declares the TSC clock.
	_, files, err = conn.Call(&wire.Request{Op: wire.OpMetadata})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	text, err := io.ReadAll(io.NewSectionReader(files[0], 0, 1<<30))
	files[0].Close()
	if err != nil {
		return nil, err
	}
	info, _, err := record.ParseMetadata(text)
	if err != nil {
		return nil, err
	}
	r.now, r.toNS = record.Monotonic, func(d uint64) uint64 { return d }
	if info.ClockName == record.TSCClockName {
		c := record.TSCClock{Freq: info.ClockFreq}
		r.now, r.toNS = record.TSC, c.Nanos
	}
	if r.stopFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, err
	}
	return r, nil
}

// register asks dom0 for a wakeup descriptor (OpPoll).
func (r *reader) register() error {
	_, files, err := r.conn.Call(&wire.Request{Op: wire.OpPoll})
	if err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	r.wake = files[0]
	return unix.SetNonblock(int(r.wake.Fd()), true)
}

// take reads every delivered packet of every stream: its latency, then
// releases it.
func (r *reader) take() {
	for cpu := range r.ring.Streams() {
		r.takeStream(r.ring.Stream(cpu))
	}
}

func (r *reader) takeStream(s *shm.Stream) {
	for {
		pkt, _, ok := s.Next()
		if !ok {
			return
		}
		now := r.now()
		end := binary.LittleEndian.Uint64(pkt[record.OffTimestampEnd:])
		var d uint64
		if now > end {
			d = r.toNS(now - end)
		}
		r.latency = append(r.latency, float64(d)/1e3)
		s.Release()
	}
}

// runWoken is lttd-xen's loop: drain the wakeup descriptor, take what is
// delivered, poll(2) with no timeout, until stop. With rt set the loop
// runs on its own thread at SCHED_FIFO priority 1.
func (r *reader) runWoken(rt bool) error {
	if rt {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := setFIFO(); err != nil {
			return err
		}
	}
	wake := int(r.wake.Fd())
	pfd := []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}, {Fd: int32(r.stopFD), Events: unix.POLLIN}}
	var buf [512]byte
	for {
		for {
			if n, err := unix.Read(wake, buf[:]); n <= 0 || err != nil {
				break
			}
		}
		r.take()
		if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if pfd[1].Revents != 0 {
			r.take()
			return nil
		}
	}
}

// runPolling is xentrace's loop: look every interval, whatever happened.
func (r *reader) runPolling(interval time.Duration) error {
	pfd := []unix.PollFd{{Fd: int32(r.stopFD), Events: unix.POLLIN}}
	for {
		r.take()
		n, err := unix.Poll(pfd, int(interval/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if n > 0 {
			r.take()
			return nil
		}
	}
}

// setFIFO puts the calling thread in SCHED_FIFO at priority 1.
func setFIFO() error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 1}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("SCHED_FIFO: %w", err)
	}
	return nil
}

func (r *reader) stop() { _, _ = unix.Write(r.stopFD, binary.NativeEndian.AppendUint64(nil, 1)) }

func (r *reader) close() {
	if r.mapID != 0 {
		r.conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _, _ = r.conn.Call(&wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: r.mapID}})
	}
	if r.wake != nil {
		r.wake.Close()
	}
	if r.stopFD >= 0 {
		unix.Close(r.stopFD)
	}
	r.buf.Close()
	r.cons.Close()
	r.ctrl.Close()
	r.conn.Close()
}

// pollReaderMain is the child "bench poll-reader -sock PATH": a reader
// that polls every 100 ms as xentrace does, the idle-cost baseline. It
// logs "polling" once mapped and runs until SIGTERM.
func pollReaderMain(args []string) int {
	fs := flag.NewFlagSet("poll-reader", flag.ExitOnError)
	sock := fs.String("sock", "", "dom0's socket")
	interval := fs.Duration("interval", 100*time.Millisecond, "how often to look")
	fs.Parse(args)
	r, err := openReader(*sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poll-reader:", err)
		return 1
	}
	defer r.close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; r.stop() }()
	fmt.Fprintln(os.Stderr, "polling", filepath.Base(*sock))
	if err := r.runPolling(*interval); err != nil {
		fmt.Fprintln(os.Stderr, "poll-reader:", err)
		return 1
	}
	return 0
}
