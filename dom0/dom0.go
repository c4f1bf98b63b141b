package dom0

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/poller"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Limits of the tools' interface.
const (
	// MaxClients bounds concurrent tool connections.
	MaxClients = 256
	// clientIdle is how long a tool connection that holds nothing (no
	// mapping, no poll registration) may stay silent.
	clientIdle = 30 * time.Second
	// callTimeout bounds one hypercall round trip.
	callTimeout = 60 * time.Second
)

// Config configures dom0.
type Config struct {
	HypervisorSocket string            // path of hypervisor.sock
	Listener         *net.UnixListener // dom0.sock, already listening
	Wakeup           WakeupKind
	Allowed          []uint32 // uids allowed besides root and our own
	Logger           *slog.Logger
	// Lttd is the lttd-xen dom0 starts for a session created with an output
	// directory; empty: such a create fails (consumer.go).
	Lttd string
	// RunDir is the run directory, handed to the consumers dom0 starts.
	RunDir string
}

// Dom0 is the running daemon. Run serves until Close.
type Dom0 struct {
	cfg  Config
	log  *slog.Logger
	stop *poller.Poller // woken once Close has begun
	wg   sync.WaitGroup

	// bindTried is closed once the first attempt to bind the hypervisor
	// has ended (bound or not): until then a hypercall waits rather than
	// answers "unavailable", so a tool that connects to a dom0 that has
	// just started (lttd-xen re-attaching) is not told the hypervisor is
	// gone while dom0 is still binding it.
	bindTried chan struct{}
	triedOnce sync.Once
	done      chan struct{} // closed by Close

	pm postMortem // traces held for a post-mortem snapshot (postmortem.go)

	mu       sync.Mutex
	link     *hvLink
	clients  map[*client]struct{}
	closed   bool
	consumer *consumer // the session's consumer, nil if none (session.go)
}

// client is one tool connection. Fields other than conn and accepted are
// guarded by Dom0.mu.
type client struct {
	conn     *wire.Conn
	accepted time.Time
	wake     *wakeup            // set by poll: the connection is a reader
	maps     map[uint64]*hvLink // mappings taken through this connection
	uid, gid uint32             // the peer's credentials (SO_PEERCRED), set before serving
	busy     bool               // a request is being served
	evicted  bool               // closed to make room (see evictLocked)
}

// New prepares dom0; Run starts it.
func New(cfg Config) (*Dom0, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Wakeup == "" {
		cfg.Wakeup = WakeupEventfd
	}
	stop, err := poller.New()
	if err != nil {
		return nil, err
	}
	return &Dom0{
		cfg: cfg, log: cfg.Logger, stop: stop, clients: make(map[*client]struct{}),
		bindTried: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// Run connects to the hypervisor (and reconnects whenever it restarts) and
// serves the tools until Close. It returns nil after Close.
func (d *Dom0) Run() error {
	d.wg.Go(d.linkLoop)
	for {
		uc, err := d.cfg.Listener.AcceptUnix()
		if err != nil {
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		c := &client{conn: wire.NewConn(uc), maps: make(map[uint64]*hvLink), accepted: time.Now()}
		d.mu.Lock()
		if !d.closed && len(d.clients) >= MaxClients {
			d.evictLocked()
		}
		if d.closed || len(d.clients) >= MaxClients {
			d.mu.Unlock()
			c.conn.Close()
			continue
		}
		d.clients[c] = struct{}{}
		d.mu.Unlock()
		d.wg.Go(func() { d.serve(c) })
	}
}

// evictLocked makes room for a new connection when MaxClients are open:
// it closes the oldest connection that holds nothing (no mapping, no
// reader registration) and is not in the middle of a request. A local
// process that opens MaxClients silent connections therefore cannot lock
// the tools out for the 30 s idle deadline: each new connection pushes out
// the oldest idle one, and readers and mappings are never pushed out. The
// evicted connection's goroutine removes it from d.clients.
func (d *Dom0) evictLocked() {
	var victim *client
	for c := range d.clients {
		if c.wake != nil || len(c.maps) > 0 || c.busy || c.evicted {
			continue
		}
		if victim == nil || c.accepted.Before(victim.accepted) {
			victim = c
		}
	}
	if victim == nil {
		return
	}
	victim.evicted = true
	victim.conn.Close()
	delete(d.clients, victim)
}

// Close stops the session's consumer (it writes what is delivered and
// exits), stops serving, closes every connection, unbinds from the
// hypervisor and waits for every goroutine. Idempotent.
func (d *Dom0) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	d.stopConsumer()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.done)
	d.stop.Wake()
	err := d.cfg.Listener.Close()
	for c := range d.clients {
		c.conn.Close()
	}
	l := d.link
	d.mu.Unlock()
	if l != nil {
		l.stop.Wake() // wake watchHangup; linkLoop closes l
	}
	d.wg.Wait()
	d.pmRelease()
	d.stop.Close()
	return err
}

// linkLoop keeps dom0 bound to the hypervisor.
func (d *Dom0) linkLoop() {
	for {
		tried := func() { d.triedOnce.Do(func() { close(d.bindTried) }) }
		l := connectLoop(d.cfg.HypervisorSocket, d.stop, func(err error) {
			tried()
			d.log.Debug("hypervisor not reachable yet", "err", err)
		})
		if l == nil {
			tried()
			return
		}
		// A hypervisor that already has a trace (dom0 restarted): hold its
		// memory before any tool can see the link (postmortem.go).
		d.pmArmOn(l)
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			l.close()
			tried()
			return
		}
		d.link = l
		d.mu.Unlock()
		tried()
		d.log.Info("bound VIRQ_TBUF", "hypervisor", d.cfg.HypervisorSocket)

		var virqDone sync.WaitGroup
		virqDone.Go(func() { d.virqLoop(l) })
		watchHangup(l)
		d.pmHypervisorGone()

		d.mu.Lock()
		d.link = nil
		closed := d.closed
		// Mappings made through this link died with it; readers relying on
		// them are told by closing their connections.
		for c := range d.clients {
			for id, ml := range c.maps {
				if ml == l {
					delete(c.maps, id)
					c.conn.Close()
				}
			}
			if c.wake != nil {
				c.conn.Close()
			}
		}
		d.mu.Unlock()
		l.close()
		virqDone.Wait()
		if closed {
			return
		}
		d.log.Warn("hypervisor went away; waiting for it to come back")
	}
}

// virqLoop reads VIRQ_TBUF and runs xen_wakeup_readers for each batch of
// VIRQs. It blocks in the runtime poller; closing the eventfd ends it.
func (d *Dom0) virqLoop(l *hvLink) {
	buf := make([]byte, 8)
	for {
		if _, err := l.virq.Read(buf); err != nil {
			if !errors.Is(err, os.ErrClosed) {
				d.log.Warn("VIRQ read failed", "err", err)
			}
			return
		}
		d.xenWakeupReaders()
	}
}

// xenWakeupReaders signals every registered reader once.
func (d *Dom0) xenWakeupReaders() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.clients {
		if c.wake != nil {
			c.wake.signal()
		}
	}
}

// Clients returns the number of tool connections open and, among them,
// the registered readers (for a debug report).
func (d *Dom0) Clients() (clients, readers int) {
	d.mu.Lock()
	clients = len(d.clients)
	d.mu.Unlock()
	return clients, d.readers()
}

func (d *Dom0) readers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for c := range d.clients {
		if c.wake != nil {
			n++
		}
	}
	return n
}

// call makes one hypercall on the current link.
func (d *Dom0) call(req *wire.Request) (*wire.Reply, []*os.File, *hvLink, error) {
	select {
	case <-d.bindTried:
	case <-d.done:
	}
	d.mu.Lock()
	l := d.link
	d.mu.Unlock()
	if l == nil {
		return nil, nil, nil, fmt.Errorf("hypervisor not connected (is it running?): %w", wire.ErrUnavailable)
	}
	return callOn(l, req)
}

// callOn makes one hypercall on link l.
func callOn(l *hvLink, req *wire.Request) (*wire.Reply, []*os.File, *hvLink, error) {
	// The deadline bounds this call only: cleared afterwards, or the idle
	// connection would wake the runtime when it expires.
	l.callMu.Lock()
	l.conn.SetDeadline(time.Now().Add(callTimeout))
	rep, files, err := l.conn.Call(req)
	l.conn.SetDeadline(time.Time{})
	l.callMu.Unlock()
	var re *wire.RemoteError
	if err != nil && !errors.As(err, &re) {
		// The link is out of step or gone: drop it and let linkLoop rebind.
		l.stop.Wake()
		return nil, nil, nil, fmt.Errorf("hypercall %s: %w: %w", req.Op, wire.ErrUnavailable, err)
	}
	return rep, files, l, err
}
