package dom0

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// relayed maps the tools' lifecycle ops to their hypercalls.
var relayed = map[wire.Op]wire.Op{
	wire.OpCreate:       wire.OpTraceCreate,
	wire.OpStart:        wire.OpTraceStart,
	wire.OpStop:         wire.OpTraceStop,
	wire.OpDestroy:      wire.OpTraceDestroy,
	wire.OpMetadata:     wire.OpMetadata,
	wire.OpEventAdd:     wire.OpEventAdd,
	wire.OpEventList:    wire.OpEventList,
	wire.OpEmit:         wire.OpEmit,
	wire.OpEnableEvent:  wire.OpEnableEvent,
	wire.OpDisableEvent: wire.OpDisableEvent,
	wire.OpCPUOnline:    wire.OpCPUOnline,
	wire.OpCPUOffline:   wire.OpCPUOffline,
}

// serve runs one tool connection until it closes, then releases what it
// held: its mappings (unmap hypercalls) and its reader registration.
func (d *Dom0) serve(c *client) {
	defer d.release(c)
	_, uid, gid, err := wire.PeerCred(c.conn.UnixConn())
	if err == nil {
		err = wire.Authorize(uid, d.cfg.Allowed)
	}
	c.uid, c.gid = uid, gid
	if err != nil {
		d.log.Warn("tool connection refused", "err", err)
		wire.Refuse(c.conn, err)
		return
	}
	for {
		d.mu.Lock()
		holds := c.wake != nil || len(c.maps) > 0
		d.mu.Unlock()
		if holds {
			c.conn.SetDeadline(time.Time{}) // a reader may be idle for hours
		} else {
			c.conn.SetDeadline(time.Now().Add(clientIdle))
		}
		req, err := c.conn.RecvRequest(wire.Tools)
		if err != nil {
			if errors.Is(err, wire.ErrBadRequest) || errors.Is(err, wire.ErrUnknownOp) {
				if c.conn.ReplyError(err) == nil {
					continue
				}
			}
			return
		}
		c.conn.SetDeadline(time.Now().Add(callTimeout))
		d.mu.Lock()
		c.busy = true
		d.mu.Unlock()
		err = d.dispatch(c, req)
		if err != nil {
			err = c.conn.ReplyError(err)
		}
		d.mu.Lock()
		c.busy = false
		d.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (d *Dom0) dispatch(c *client, req *wire.Request) error {
	if handled, err := d.pmDispatch(c, req); handled {
		return err
	}
	switch req.Op {
	case wire.OpStatus:
		rep, _, _, err := d.call(req)
		if err != nil {
			return err
		}
		rep.Status.Readers = d.readers()
		d.sessionStatus(rep.Status)
		return c.conn.Reply(rep)
	case wire.OpCreate:
		return d.create(c, req)
	case wire.OpDestroy:
		return d.destroy(c, req)
	case wire.OpMap:
		// The hypervisor names the consumer role's holder by the pid the
		// kernel vouches for, never one the tool claims.
		args := wire.MapArgs{}
		if req.Map != nil {
			args = *req.Map
		}
		if pid, _, _, err := wire.PeerCred(c.conn.UnixConn()); err == nil {
			args.PID = pid
		}
		req.Map = &args
		rep, files, l, err := d.call(req)
		if err != nil {
			return err
		}
		defer closeFiles(files)
		d.mu.Lock()
		c.maps[rep.MapID] = l
		d.mu.Unlock()
		if err := c.conn.Reply(rep, fds(files)...); err != nil {
			d.unmap(c, rep.MapID)
			return err
		}
		return nil
	case wire.OpUnmap:
		d.mu.Lock()
		_, ok := c.maps[req.Unmap.MapID]
		d.mu.Unlock()
		if !ok {
			return fmt.Errorf("map id %d was not mapped through this connection: %w", req.Unmap.MapID, wire.ErrNotFound)
		}
		if err := d.unmap(c, req.Unmap.MapID); err != nil {
			return err
		}
		return c.conn.Reply(nil)
	case wire.OpPoll:
		return d.poll(c)
	}
	hc, ok := relayed[req.Op]
	if !ok {
		return fmt.Errorf("%s: %w", req.Op, wire.ErrUnsupported)
	}
	fwd := *req
	fwd.Op = hc
	rep, files, _, err := d.call(&fwd)
	if err != nil {
		return err
	}
	defer closeFiles(files)
	d.pmAfterRelay(req.Op)
	return c.conn.Reply(rep, fds(files)...)
}

// poll registers c as a reader and hands it its wakeup descriptor.
func (d *Dom0) poll(c *client) error {
	d.mu.Lock()
	if c.wake != nil {
		d.mu.Unlock()
		return fmt.Errorf("this connection is already registered as a reader: %w", wire.ErrExists)
	}
	w, err := newWakeup(d.cfg.Wakeup)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	c.wake = w
	d.mu.Unlock()
	if err := c.conn.Reply(nil, w.read); err != nil {
		return err
	}
	d.mu.Lock()
	w.handedOut()
	d.mu.Unlock()
	d.log.Info("reader registered", "wakeup", string(w.kind))
	return nil
}

// unmap releases one of c's mappings with the hypervisor.
func (d *Dom0) unmap(c *client, id uint64) error {
	d.mu.Lock()
	l, ok := c.maps[id]
	delete(c.maps, id)
	cur := d.link
	d.mu.Unlock()
	if !ok || l != cur {
		return nil // the link that held it is gone, and the mapping with it
	}
	_, _, _, err := d.call(&wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: id}})
	return err
}

// release undoes everything c held.
func (d *Dom0) release(c *client) {
	d.mu.Lock()
	ids := make([]uint64, 0, len(c.maps))
	for id := range c.maps {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	for _, id := range ids {
		if err := d.unmap(c, id); err != nil {
			d.log.Warn("unmap on disconnect failed", "map_id", id, "err", err)
		}
	}
	d.mu.Lock()
	delete(d.clients, c)
	if c.wake != nil {
		c.wake.close()
		c.wake = nil
		d.log.Info("reader unregistered")
	}
	d.mu.Unlock()
	c.conn.Close()
}

func fds(files []*os.File) []int {
	out := make([]int, len(files))
	for i, f := range files {
		out[i] = int(f.Fd())
	}
	return out
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
