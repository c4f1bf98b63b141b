package hypervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Server limits.
const (
	// MaxConns bounds concurrent hypercall connections: a flood of clients
	// cannot exhaust the hypervisor's descriptors or goroutines. When full, a
	// new connection pushes out the oldest one that has not bound VIRQ_TBUF,
	// so a flood of idle clients cannot lock a (re)starting dom0 out.
	MaxConns = 64
	// bindDeadline is how long a connection may stay without binding
	// VIRQ_TBUF, from its accept (not renewed by requests). dom0 binds within
	// milliseconds; its bound connection is long-lived and has no limit.
	bindDeadline = 2 * time.Second
	// replyDeadline bounds writing one reply.
	replyDeadline = 10 * time.Second
)

// Server serves hypercalls on a listener. Create one with NewServer; Serve
// runs until Close.
type Server struct {
	h       *Hypervisor
	ln      *net.UnixListener
	allowed []uint32
	wg      sync.WaitGroup

	mu     sync.Mutex
	conns  map[*wire.Conn]time.Time // accept time
	closed bool
}

// NewServer serves h on ln; peers whose uid is neither root, ours, nor in
// allowed are refused.
func NewServer(h *Hypervisor, ln *net.UnixListener, allowed []uint32) *Server {
	return &Server{h: h, ln: ln, allowed: allowed, conns: make(map[*wire.Conn]time.Time)}
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
		if s.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		if len(s.conns) >= MaxConns && !s.evictLocked() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = time.Now()
		s.mu.Unlock()
		s.wg.Go(func() { s.serveConn(c) })
	}
}

// evictLocked closes the oldest connection that has not bound VIRQ_TBUF,
// reporting whether there was one. Lock order: s.mu, then h.mu (Bound).
func (s *Server) evictLocked() bool {
	var oldest *wire.Conn
	var at time.Time
	for c, t := range s.conns {
		if (oldest == nil || t.Before(at)) && !s.h.Bound(c) {
			oldest, at = c, t
		}
	}
	if oldest == nil {
		return false
	}
	oldest.Close() // its goroutine removes it from s.conns
	delete(s.conns, oldest)
	return true
}

// Conns is the number of open hypercall connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
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
		wire.Refuse(c, err)
		return
	}
	bindBy := time.Now().Add(bindDeadline)
	for {
		if s.h.Bound(c) {
			c.SetDeadline(time.Time{})
		} else {
			c.SetDeadline(bindBy)
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
		c.SetDeadline(time.Now().Add(replyDeadline)) // bound the reply write
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
		if errors.Is(err, ErrAlreadyBound) {
			// A dom0 that died may not have been noticed yet (its EOF is
			// read only when its goroutine next reads): if the binder has
			// hung up, drop it now so the new dom0 binds at once.
			if old, ok := h.Binder().(*wire.Conn); ok && hungUp(old) {
				h.Disconnect(old)
				fd, err = h.BindVIRQ(c)
			}
		}
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
		from := 0
		if req.Status != nil {
			from = req.Status.CPUFrom
		}
		if err := pageStatus(&st, from); err != nil {
			return err
		}
		return c.Reply(&wire.Reply{Status: &st})
	case wire.OpMap:
		var args wire.MapArgs
		if req.Map != nil {
			args = *req.Map
		}
		id, fds, err := h.Map(c, args)
		if err != nil {
			return err
		}
		if err := c.Reply(&wire.Reply{MapID: id}, fds[:]...); err != nil {
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
		var from uint32
		if req.EventList != nil {
			from = req.EventList.From
		}
		page, next := h.EventList(from)
		return c.Reply(&wire.Reply{Events: page, NextEvent: next})
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

// hungUp reports, without blocking or reading, whether c's peer has
// closed its end.
func hungUp(c *wire.Conn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	rc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(pfd, 0); err == nil && n > 0 {
			gone = pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
		}
	})
	return gone
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
	// wire checked the mode (wire.Mode.Validate); this maps it to the channel's.
	mode, err := shm.ParseMode(string(a.Mode))
	if err != nil {
		return TraceConfig{}, withCode(err, wire.ErrBadRequest)
	}
	if a.SwitchTimer < 0 {
		return TraceConfig{}, withCode(fmt.Errorf("switch timer %v is negative", a.SwitchTimer), wire.ErrBadRequest)
	}
	if a.SwitchTimer > 0 && a.SwitchTimer < time.Millisecond {
		return TraceConfig{}, withCode(fmt.Errorf("switch timer %v is below the 1ms minimum", a.SwitchTimer), wire.ErrBadRequest)
	}
	return TraceConfig{Geometry: g, Mode: mode, SwitchTimer: a.SwitchTimer, Events: a.Events, Name: a.Name, CPUs: a.CPUs}, nil
}

// statusBudget bounds the JSON of a status reply's Status: the rest of the
// reply and dom0's relay fit in what is left of a message. The parts other
// than PerCPU are bounded on their own (at most 4096 pCPU ids online,
// [wire.MaxStatusNames] bytes of event names).
const statusBudget = 60 << 10

// pageStatus cuts st.PerCPU down to the page that starts at pCPU from and
// fits [statusBudget], and sets NextCPU when the list goes on.
func pageStatus(st *wire.Status, from int) error {
	all := st.PerCPU
	if from > 0 && from >= len(all) {
		return withCode(fmt.Errorf("status: pCPU %d is past the last of %d", from, len(all)), wire.ErrNotFound)
	}
	st.PerCPU, st.NextCPU = nil, 0
	base, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	size := len(base) + len(`,"per_cpu":[],"next_cpu":4096`)
	for i := from; i < len(all); i++ {
		b, err := json.Marshal(all[i])
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if size += len(b) + 1; size > statusBudget && i > from {
			st.NextCPU = i
			break
		}
		st.PerCPU = append(st.PerCPU, all[i])
	}
	return nil
}
