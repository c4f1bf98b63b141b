package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/poller"
	"github.com/lttng-xen/lttng-xen/internal/sockwait"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Config configures a consumer.
type Config struct {
	Output string // trace directory (unless Relay is set)
	// Relay, if set, sends the trace to an lttng-relayd instead of Output.
	Relay *RelayConfig
	Force bool // overwrite a non-empty Output
	// Resume continues the trace already in Output (after lttd-xen died):
	// see [Consumer.resume].
	Resume bool
	// Dom0Socket is dom0's socket: when dom0 goes away the consumer waits
	// for it to come back there (inotify on its directory) and re-attaches.
	// Empty: a hang-up ends the run with [ErrTraceGone].
	Dom0Socket string
	// Redial dials dom0 again after it restarted, with the checks of the
	// first dial (the run directory's trust); nil: wire.Dial(Dom0Socket).
	// An error wrapping rundir.ErrUntrusted ends the wait.
	Redial func() (*wire.Conn, error)
	Logger *slog.Logger
	// OnPackets, if set, is called after each batch of packets is written
	// (from the consumer's goroutine) with the running totals.
	OnPackets func(Stats)
}

// Stats are a consumer's running totals: the sums over its streams, and
// each stream's own figures.
type Stats struct {
	Packets    uint64 // packets in the stream files (Kept included)
	Bytes      uint64 // bytes in the stream files
	Lost       uint64 // records the producer dropped (from the control region)
	Wakeups    uint64 // returns from poll(2)
	Kept       uint64 // packets --resume found whole on disk and kept
	Missing    uint64 // packets released before --resume but not on disk
	Reconnects uint64 // times the consumer re-attached to a restarted dom0
	// Streams has one entry per stream file written so far, by pCPU.
	Streams []StreamStats
}

// StreamStats are one stream's (one pCPU's) figures.
type StreamStats struct {
	CPU     int
	Packets uint64 // packets in the stream file (Kept included)
	Bytes   uint64
	Lost    uint64 // records the pCPU's ring dropped
	Kept    uint64
	Missing uint64
}

// Consumer is one lttd-xen session. It is driven by one goroutine (Run);
// Stop may be called from any goroutine.
type Consumer struct {
	cfg       Config
	log       *slog.Logger
	conn      *wire.Conn // dom0; replaced by reattach
	connFD    int
	mapID     uint64 // our reference on the trace's memory, 0 if none
	ctrlMap   *shm.Mapping
	consMap   *shm.Mapping
	bufMap    *shm.Mapping
	ring      *shm.Consumer
	ctrl      *shm.Control
	sbSize    uint64
	wake      int // wakeup descriptor (non-blocking), -1 if none
	wakeF     *os.File
	poll      *poller.Poller // woken by Stop
	ctx       context.Context
	cancel    context.CancelFunc // called by Stop: ends a relay redial
	sink      sink
	dir       *dirSink       // the sink when it is a directory (for --resume)
	perStream []*StreamStats // by pCPU; nil until the stream's first packet
	pkts      [][]byte
	metaVer   uint64
	stats     Stats
}

// Open maps the trace through dom0 (conn, which the consumer owns from
// now on) as its one consumer, decides what to do with the output
// directory (with Config.Resume: find where each stream on disk ends, and
// refuse a directory that does not hold this trace before changing
// anything), writes the metadata and registers as a reader. On error
// everything taken so far is released.
func Open(conn *wire.Conn, cfg Config) (_ *Consumer, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger, wake: -1}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.poll, err = poller.New(); err != nil {
		conn.Close()
		return nil, err
	}
	c.setConn(conn)
	// Map first: a consumer refused (another holds the role) writes nothing,
	// not even the output directory.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	rep, files, err := conn.Call(&wire.Request{Op: wire.OpMap, Map: c.mapArgs()})
	if err != nil {
		return nil, fmt.Errorf("map the trace: %w", err)
	}
	c.mapID = rep.MapID
	if err := c.mapFiles(files); err != nil {
		return nil, err
	}
	c.sbSize = c.ctrl.Info().Geometry.SubbufSize
	c.perStream = make([]*StreamStats, c.ring.Streams())
	if cfg.Relay != nil {
		if cfg.Resume {
			return nil, fmt.Errorf("--resume continues a trace directory; a relay session cannot be resumed")
		}
		r, err := dialRelay(c.ctx, *cfg.Relay, c.ctrl.Info().UUID, c.ring.Streams(), c.log)
		if err != nil {
			return nil, err
		}
		c.sink = r
	} else {
		if err := prepareDir(cfg.Output, cfg.Force, cfg.Resume); err != nil {
			return nil, err
		}
		c.dir = newDirSink(cfg.Output, c.ring.Streams())
		c.sink = c.dir
	}
	if cfg.Resume {
		if err := c.resume(); err != nil {
			return nil, err
		}
	}
	if err := c.writeMetadata(); err != nil {
		return nil, err
	}
	if err := c.register(); err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

// mapFiles maps the three descriptors of a map reply: the control region
// and the buffer read-only, the consumer region read-write. It takes
// ownership of files.
func (c *Consumer) mapFiles(files []*os.File) (err error) {
	defer func() {
		if err != nil {
			for _, f := range files {
				if f != nil {
					f.Close()
				}
			}
		}
	}()
	if c.ctrlMap, err = shm.MapReadOnly(files[0]); err != nil {
		return fmt.Errorf("map control region: %w", err)
	}
	files[0] = nil
	if c.consMap, err = shm.MapConsumer(files[1]); err != nil {
		return fmt.Errorf("map consumer region: %w", err)
	}
	files[1] = nil
	if c.bufMap, err = shm.MapReadOnly(files[2]); err != nil {
		return fmt.Errorf("map buffer: %w", err)
	}
	files[2] = nil
	if c.ring, err = shm.NewConsumer(c.ctrlMap.Data, c.consMap.Data, c.bufMap.Data); err != nil {
		return err
	}
	c.ctrl = c.ring.Control()
	return nil
}

// setConn makes conn the connection to dom0.
func (c *Consumer) setConn(conn *wire.Conn) {
	c.conn, c.connFD = conn, -1
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { c.connFD = int(fd) })
	}
}

// register asks dom0 for a wakeup descriptor (poll).
func (c *Consumer) register() error {
	_, files, err := c.conn.Call(&wire.Request{Op: wire.OpPoll})
	if err != nil {
		return fmt.Errorf("register as reader: %w", err)
	}
	c.wakeF = files[0]
	c.wake = int(c.wakeF.Fd()) // Fd switches the descriptor to blocking; undo it:
	if err := unix.SetNonblock(c.wake, true); err != nil {
		return fmt.Errorf("wakeup fd: %w", err)
	}
	return nil
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
	if err := c.sink.writeMetadata(text); err != nil {
		return err
	}
	c.metaVer = rep.MetadataVersion
	return nil
}

// Stop asks Run to write what is delivered and return. Safe from any
// goroutine (a signal handler's).
func (c *Consumer) Stop() {
	c.cancel()
	c.poll.Wake()
}

// Where is where the trace goes: the output directory or the relay's URL.
func (c *Consumer) Where() string {
	if c.cfg.Relay != nil {
		return c.cfg.Relay.URL.String()
	}
	return c.cfg.Output
}

// mapArgs asks for the consumer role, saying where the trace goes (status
// shows it).
func (c *Consumer) mapArgs() *wire.MapArgs {
	return &wire.MapArgs{Role: wire.RoleConsumer, Output: c.Where()}
}

// errHangup: dom0 closed the connection (internal to Run).
var errHangup = errors.New("dom0 closed the connection")

// Run consumes until the trace is destroyed (nil), Stop is called (nil),
// or something fails. When dom0 goes away it writes what is delivered,
// waits for dom0 to come back, re-attaches and goes on (see reattach); if
// the trace is gone by then it returns an error wrapping [ErrTraceGone].
// Every error return comes after writing every packet delivered so far,
// except a write failure ([ErrNoRoom]).
func (c *Consumer) Run() error {
	for {
		err := c.consume()
		if !errors.Is(err, errHangup) {
			return err
		}
		if c.ctrl.State() == shm.StateDestroyed {
			// The hypervisor destroyed the trace (its shutdown does) and
			// then went away: the final flush is on disk, nothing is lost.
			return c.writeReady()
		}
		err = c.reattach()
		if err == nil {
			continue
		}
		werr := c.writeReady()
		switch {
		case errors.Is(err, sockwait.ErrStopped):
			return werr
		case werr == nil && c.ctrl.State() == shm.StateDestroyed:
			return nil
		}
		return errors.Join(err, werr)
	}
}

// consume is the loop, and why no wakeup can be lost:
//
//  1. drain the wakeup descriptor;
//  2. load the trace state;
//  3. write every delivered packet of every stream;
//  4. if the state loaded in 2 was "destroyed", every packet has been
//     delivered before it (the producer publishes the state after its final
//     flush) and written in 3: done;
//  5. poll(2) the wakeup descriptor and dom0's connection (and the
//     poller's stop eventfd), with no timeout.
//
// A delivery after 1 either is seen in 3 or makes the descriptor readable
// for 5: drain, check, then sleep. It returns errHangup when dom0 closes
// the connection.
func (c *Consumer) consume() error {
	pfd := []unix.PollFd{
		{Fd: int32(c.wake), Events: unix.POLLIN},
		{Fd: int32(c.connFD), Events: unix.POLLRDHUP},
	}
	live := time.Duration(-1) // no timeout: no timer unless the user asked for a live one
	if c.cfg.Relay != nil && c.cfg.Relay.Live > 0 {
		live = c.cfg.Relay.Live
	}
	lastTick := time.Now()
	for {
		c.drainWakeup()
		state := c.ctrl.State()
		if err := c.writeReady(); err != nil {
			return err
		}
		if state == shm.StateDestroyed {
			return nil
		}
		timeout := live
		if live > 0 {
			if since := time.Since(lastTick); since >= live {
				if err := c.sink.tick(); err != nil {
					return err
				}
				lastTick = time.Now()
			} else {
				timeout = live - since
			}
		}
		stopped, err := c.poll.Wait(pfd, timeout)
		if err != nil {
			return err
		}
		c.stats.Wakeups++
		if stopped {
			return c.writeReady()
		}
		if pfd[1].Revents != 0 {
			if err := c.writeReady(); err != nil {
				return err
			}
			return errHangup
		}
	}
}

// drainWakeup empties the wakeup descriptor: read until EAGAIN (an
// eventfd empties in one read, a pipe may hold several bytes) or EOF.
func (c *Consumer) drainWakeup() {
	if c.wake < 0 {
		return
	}
	var buf [512]byte
	for {
		if n, err := unix.Read(c.wake, buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// Stats returns the running totals. Call from Run's goroutine or after Run.
func (c *Consumer) Stats() Stats {
	st := c.stats
	st.Streams = nil
	for _, ss := range c.perStream {
		if ss != nil {
			st.Streams = append(st.Streams, *ss)
		}
	}
	return st
}

// dropConn closes the connection to dom0 and what came through it: the
// wakeup descriptor. The mapping reference died with the connection.
func (c *Consumer) dropConn() {
	if c.wakeF != nil {
		c.wakeF.Close()
		c.wakeF, c.wake = nil, -1
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.mapID = 0
}

// Close unmaps (dropping the trace's reference), unregisters and closes
// everything. Idempotent.
func (c *Consumer) Close() error {
	var errs []error
	if c.mapID != 0 && c.conn != nil {
		c.conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.conn.Call(&wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: c.mapID}}); err != nil && !errors.Is(err, wire.ErrNotFound) {
			c.log.Debug("unmap failed", "err", err)
		}
		c.mapID = 0
	}
	if c.sink != nil {
		errs = append(errs, c.sink.close())
		c.sink = nil
	}
	c.dropConn()
	if c.poll != nil {
		c.poll.Close()
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.ring = nil
	errs = append(errs, c.bufMap.Close(), c.consMap.Close(), c.ctrlMap.Close())
	return errors.Join(errs...)
}
