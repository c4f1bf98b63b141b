package hypervisor

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Server limits.
const (
	// MaxConns bounds concurrent hypercall connections: a flood of clients
	// cannot exhaust the hypervisor's descriptors or goroutines.
	MaxConns = 64
	// unboundIdle is how long a connection that has not bound VIRQ_TBUF may
	// stay silent. dom0's bound connection is long-lived and has no limit.
	unboundIdle = 10 * time.Second
)

// Server serves hypercalls on a listener. Create one with NewServer; Serve
// runs until Close.
type Server struct {
	h       *Hypervisor
	ln      *net.UnixListener
	allowed []uint32
	wg      sync.WaitGroup

	mu     sync.Mutex
	conns  map[*wire.Conn]struct{}
	closed bool
}

// NewServer serves h on ln; peers whose uid is neither root, ours, nor in
// allowed are refused.
func NewServer(h *Hypervisor, ln *net.UnixListener, allowed []uint32) *Server {
	return &Server{h: h, ln: ln, allowed: allowed, conns: make(map[*wire.Conn]struct{})}
}

// Serve accepts connections until Close; it returns nil after Close.
func (s *Server) Serve() error {
	for {
		uc, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		c := wire.NewConn(uc)
		s.mu.Lock()
		if s.closed || len(s.conns) >= MaxConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.serveConn(c) })
	}
}

// Close stops accepting, closes every connection and waits for their
// goroutines. Idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serveConn(c *wire.Conn) {
	defer func() {
		s.h.Disconnect(c)
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	_, uid, _, err := wire.PeerCred(c.UnixConn())
	if err == nil {
		err = wire.Authorize(uid, s.allowed)
	}
	if err != nil {
		s.h.log.Warn("hypercall connection refused", "err", err)
		c.ReplyError(err)
		return
	}
	for {
		if s.h.Bound(c) {
			c.SetDeadline(time.Time{})
		} else {
			c.SetDeadline(time.Now().Add(unboundIdle))
		}
		req, err := c.RecvRequest(wire.Hypercalls)
		if err != nil {
			if errors.Is(err, wire.ErrBadRequest) || errors.Is(err, wire.ErrUnknownOp) {
				if c.ReplyError(err) == nil {
					continue
				}
			}
			return
		}
		c.SetDeadline(time.Now().Add(unboundIdle)) // bound the reply write
		if err := s.dispatch(c, req); err != nil {
			s.h.log.Debug("hypercall failed", "op", req.Op, "err", err)
			if c.ReplyError(err) != nil {
				return
			}
		}
	}
}

// dispatch runs one hypercall and sends its successful reply; an error is
// returned for the caller to send.
func (s *Server) dispatch(c *wire.Conn, req *wire.Request) error {
	h := s.h
	if req.Op == wire.OpBindVIRQ {
		fd, err := h.BindVIRQ(c)
		if err != nil {
			return err
		}
		return c.Reply(nil, fd)
	}
	if !h.Bound(c) {
		return ErrNotBound
	}
	switch req.Op {
	case wire.OpTraceCreate:
		cfg, err := traceConfig(req.Create)
		if err != nil {
			return err
		}
		if err := h.Create(cfg); err != nil {
			return err
		}
		return c.Reply(nil)
	case wire.OpTraceStart:
		return replyOrErr(c, h.Start())
	case wire.OpTraceStop:
		return replyOrErr(c, h.Stop())
	case wire.OpTraceDestroy:
		return replyOrErr(c, h.Destroy())
	case wire.OpStatus:
		st := h.Status()
		return c.Reply(&wire.Reply{Status: &st})
	case wire.OpMap:
		id, ctrl, buf, err := h.Map(c)
		if err != nil {
			return err
		}
		if err := c.Reply(&wire.Reply{MapID: id}, ctrl, buf); err != nil {
			h.Unmap(c, id)
			return err
		}
		return nil
	case wire.OpUnmap:
		return replyOrErr(c, h.Unmap(c, req.Unmap.MapID))
	case wire.OpMetadata:
		f, version, err := h.Metadata()
		if err != nil {
			return err
		}
		defer f.Close()
		return c.Reply(&wire.Reply{MetadataVersion: version}, int(f.Fd()))
	case wire.OpEventAdd:
		ev, err := h.AddEvent(req.EventAdd.Decl)
		if err != nil {
			return err
		}
		return c.Reply(&wire.Reply{Events: []wire.EventInfo{eventInfo(ev, true)}})
	case wire.OpEventList:
		return c.Reply(&wire.Reply{Events: h.EventList()})
	case wire.OpEnableEvent, wire.OpDisableEvent:
		return replyOrErr(c, h.SetEvents(req.Op == wire.OpEnableEvent, req.Events.Globs))
	case wire.OpEmit:
		return replyOrErr(c, h.Emit(req.Emit.CPU, req.Emit.Name, req.Emit.Fields))
	case wire.OpCPUOnline:
		return replyOrErr(c, h.CPUOnline(req.CPU.CPU))
	case wire.OpCPUOffline:
		return replyOrErr(c, h.CPUOffline(req.CPU.CPU))
	}
	return fmt.Errorf("%s: %w", req.Op, wire.ErrUnsupported)
}

func replyOrErr(c *wire.Conn, err error) error {
	if err != nil {
		return err
	}
	return c.Reply(nil)
}

// traceConfig checks trace_create's arguments.
func traceConfig(a *wire.CreateArgs) (TraceConfig, error) {
	g := shm.Geometry{SubbufSize: a.SubbufSize, NumSubbuf: a.NumSubbuf}
	if err := g.Validate(); err != nil {
		return TraceConfig{}, withCode(err, wire.ErrBadRequest)
	}
	mode, err := shm.ParseMode(string(a.Mode))
	if err == nil && mode != shm.ModeDiscard {
		err = fmt.Errorf("%w: %s mode is not implemented yet (use discard)", shm.ErrMode, mode)
	}
	if err != nil {
		return TraceConfig{}, withCode(err, wire.ErrBadRequest)
	}
	if a.SwitchTimer < 0 {
		return TraceConfig{}, withCode(fmt.Errorf("switch timer %v is negative", a.SwitchTimer), wire.ErrBadRequest)
	}
	if a.SwitchTimer > 0 && a.SwitchTimer < time.Millisecond {
		return TraceConfig{}, withCode(fmt.Errorf("switch timer %v is below the 1ms minimum", a.SwitchTimer), wire.ErrBadRequest)
	}
	return TraceConfig{Geometry: g, Mode: mode, SwitchTimer: a.SwitchTimer, Events: a.Events}, nil
}
