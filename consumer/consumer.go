package consumer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Errors of a consumer run.
var (
	// ErrDom0Gone: dom0 closed the connection (dom0 or the hypervisor died);
	// what was delivered has been written, the trace may be incomplete.
	ErrDom0Gone = errors.New("dom0 closed the connection: the trace may be incomplete")
)

// Config configures a consumer.
type Config struct {
	Output string // trace directory
	Force  bool   // overwrite a non-empty Output
	Logger *slog.Logger
	// OnPackets, if set, is called after each batch of packets is written
	// (from the consumer's goroutine) with the running totals.
	OnPackets func(Stats)
}

// Stats are a consumer's running totals.
type Stats struct {
	Packets uint64 // packets written
	Bytes   uint64 // bytes written to the stream file
	Lost    uint64 // records the producer dropped (from the control page)
	Wakeups uint64 // returns from poll(2)
}

// Consumer is one lttd-xen session. It is driven by one goroutine (Run);
// Stop may be called from any goroutine.
type Consumer struct {
	cfg     Config
	log     *slog.Logger
	conn    *wire.Conn
	mapID   uint64
	ctrlMap *shm.Mapping
	bufMap  *shm.Mapping
	ring    *shm.Consumer
	ctrl    *shm.Control
	wake    int // wakeup descriptor (non-blocking)
	wakeF   *os.File
	stop    int // eventfd written by Stop
	connFD  int
	stream  *os.File
	metaVer uint64
	stats   Stats
	iov     [][]byte
}

// Open maps the trace through dom0 (conn), writes the metadata, registers
// as a reader and opens the stream file. On error everything taken so far
// is released.
func Open(conn *wire.Conn, cfg Config) (_ *Consumer, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := prepareDir(cfg.Output, cfg.Force); err != nil {
		return nil, err
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger, conn: conn, wake: -1, stop: -1}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer conn.SetDeadline(time.Time{})
	rep, files, err := conn.Call(&wire.Request{Op: wire.OpMap})
	if err != nil {
		return nil, fmt.Errorf("map the trace: %w", err)
	}
	c.mapID = rep.MapID
	if c.ctrlMap, err = shm.MapControl(files[0]); err != nil {
		files[1].Close()
		return nil, fmt.Errorf("map control page: %w", err)
	}
	if c.bufMap, err = shm.MapBuffer(files[1]); err != nil {
		return nil, fmt.Errorf("map buffer: %w", err)
	}
	if c.ring, err = shm.NewConsumer(c.ctrlMap.Data, c.bufMap.Data); err != nil {
		return nil, err
	}
	c.ctrl = c.ring.Control()
	c.ctrl.SetConsumerPID(uint64(os.Getpid()))
	if err := c.writeMetadata(); err != nil {
		return nil, err
	}
	c.stream, err = os.OpenFile(filepath.Join(cfg.Output, StreamFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stream file: %w", err)
	}
	_, files, err = conn.Call(&wire.Request{Op: wire.OpPoll})
	if err != nil {
		return nil, fmt.Errorf("register as reader: %w", err)
	}
	c.wakeF = files[0]
	c.wake = int(c.wakeF.Fd()) // Fd switches the descriptor to blocking; undo it:
	if err := unix.SetNonblock(c.wake, true); err != nil {
		return nil, fmt.Errorf("wakeup fd: %w", err)
	}
	if c.stop, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	rc.Control(func(fd uintptr) { c.connFD = int(fd) })
	return c, nil
}

// writeMetadata fetches the TSDL text from dom0 and replaces the metadata
// file atomically.
func (c *Consumer) writeMetadata() error {
	rep, files, err := c.conn.Call(&wire.Request{Op: wire.OpMetadata})
	if err != nil {
		return fmt.Errorf("fetch metadata: %w", err)
	}
	f := files[0]
	defer f.Close()
	text, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		return fmt.Errorf("read metadata: %w", err)
	}
	if err := writeAtomic(c.cfg.Output, MetadataFile, text); err != nil {
		return err
	}
	c.metaVer = rep.MetadataVersion
	return nil
}

// Stop asks Run to write what is delivered and return. Safe from any
// goroutine (a signal handler's).
func (c *Consumer) Stop() { _, _ = unix.Write(c.stop, oneEvent) }

var oneEvent = []byte{1, 0, 0, 0, 0, 0, 0, 0}

// Run consumes until the trace is destroyed (nil), Stop is called (nil),
// or something fails. The loop, and why no wakeup can be lost:
//
//  1. drain the wakeup descriptor;
//  2. load the trace state;
//  3. write every delivered packet;
//  4. if the state loaded in 2 was "destroyed", every packet has been
//     delivered before it (the producer publishes the state after its final
//     flush) and written in 3: done;
//  5. poll(2) the wakeup descriptor, dom0's connection and the stop
//     eventfd, with no timeout.
//
// A delivery after 1 either is seen in 3 or makes the descriptor readable
// for 5: drain, check, then sleep.
func (c *Consumer) Run() error {
	pfd := []unix.PollFd{
		{Fd: int32(c.wake), Events: unix.POLLIN},
		{Fd: int32(c.connFD), Events: unix.POLLRDHUP},
		{Fd: int32(c.stop), Events: unix.POLLIN},
	}
	for {
		c.drainWakeup()
		state := c.ctrl.State()
		if err := c.writeReady(); err != nil {
			return err
		}
		if state == shm.StateDestroyed {
			return nil
		}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("poll: %w", err)
		}
		c.stats.Wakeups++
		if pfd[2].Revents != 0 {
			return c.writeReady()
		}
		if pfd[1].Revents != 0 {
			if err := c.writeReady(); err != nil {
				return err
			}
			return ErrDom0Gone
		}
	}
}

// drainWakeup empties the wakeup descriptor: read until EAGAIN (an
// eventfd empties in one read, a pipe may hold several bytes) or EOF.
func (c *Consumer) drainWakeup() {
	var buf [512]byte
	for {
		if n, err := unix.Read(c.wake, buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// writeReady writes every delivered packet to the stream file in as few
// writev(2) calls as possible, straight from the read-only mapping, then
// releases them.
func (c *Consumer) writeReady() error {
	if v := c.ctrl.MetadataVersion(); v != c.metaVer {
		if err := c.writeMetadata(); err != nil {
			return err
		}
	}
	for {
		n := c.ring.Ready()
		if n == 0 {
			break
		}
		n = min(n, maxIOV)
		c.iov = c.iov[:0]
		seq := c.ring.NextSeq()
		for i := range n {
			c.iov = append(c.iov, c.ring.Packet(seq+uint64(i)))
		}
		written, err := writevAll(int(c.stream.Fd()), c.iov)
		c.stats.Bytes += uint64(written)
		if err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(c.cfg.Output, StreamFile), err)
		}
		c.ring.ReleaseN(n)
		c.stats.Packets += uint64(n)
	}
	c.stats.Lost = c.ctrl.LostFull() + c.ctrl.LostTooBig()
	if c.cfg.OnPackets != nil {
		c.cfg.OnPackets(c.stats)
	}
	return nil
}

// maxIOV is the most packets written by one writev (IOV_MAX is 1024).
const maxIOV = 64

// writevAll writes all of iov, continuing after short writes.
func writevAll(fd int, iov [][]byte) (int, error) {
	total := 0
	for len(iov) > 0 {
		n, err := unix.Writev(fd, iov)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return total, err
		}
		total += n
		for n > 0 && len(iov) > 0 {
			if n >= len(iov[0]) {
				n -= len(iov[0])
				iov = iov[1:]
				continue
			}
			iov[0] = iov[0][n:]
			n = 0
		}
	}
	return total, nil
}

// Stats returns the running totals. Call from Run's goroutine or after Run.
func (c *Consumer) Stats() Stats { return c.stats }

// Close unmaps (dropping the trace's reference), unregisters and closes
// everything. Idempotent.
func (c *Consumer) Close() error {
	var errs []error
	if c.mapID != 0 {
		c.conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.conn.Call(&wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: c.mapID}}); err != nil && !errors.Is(err, wire.ErrNotFound) {
			c.log.Debug("unmap failed", "err", err)
		}
		c.mapID = 0
	}
	if c.stream != nil {
		errs = append(errs, c.stream.Close())
		c.stream = nil
	}
	if c.wakeF != nil {
		c.wakeF.Close()
		c.wakeF = nil
	}
	if c.stop >= 0 {
		unix.Close(c.stop)
		c.stop = -1
	}
	if c.ring != nil {
		c.ring = nil
	}
	errs = append(errs, c.bufMap.Close(), c.ctrlMap.Close())
	return errors.Join(errs...)
}
