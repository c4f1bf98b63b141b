package dom0

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Post-mortem traces. The trace's memory is three memfds the hypervisor
// creates; a memfd lives as long as anyone holds a descriptor of it. dom0
// therefore keeps, for the bound hypervisor's trace, the descriptors an
// observer mapping hands out and the latest metadata memfd ("arming"),
// taken right after create (and event_add, which changes the metadata) and
// when it binds a hypervisor that already has a trace. The mapping itself
// is released at once, so the hypervisor's refcount is not changed: only
// the descriptors are kept.
//
// When the hypervisor dies, its trace's memory survives in those
// descriptors: the armed trace becomes the post-mortem trace, served to
// observers (map with the observer role, metadata) while the bound
// hypervisor, if any, has no trace of its own. lttctl-xen snapshot reads it
// as it reads a live trace. destroy releases it.

// heldTrace is one trace's memory and metadata, held open by dom0.
type heldTrace struct {
	files       []*os.File // control, consumer, buffer: the map reply's order
	meta        *os.File
	metaVersion uint64
}

func (h *heldTrace) close() {
	if h == nil {
		return
	}
	closeFiles(h.files)
	h.meta.Close()
}

// postMortem is dom0's held traces. Its own mutex: it is never held across
// a hypercall, and Dom0.mu is never taken under it.
type postMortem struct {
	mu   sync.Mutex
	live *heldTrace // the bound hypervisor's trace, armed
	dead *heldTrace // the trace of a hypervisor that died
}

// pmMapID is the map id dom0 hands out for the post-mortem trace; the
// hypervisor's ids are small counters and never reach it.
const pmMapID = 1<<63 | 0x504d // "PM"

// pmArm takes the current trace's descriptors and metadata and keeps them.
// Failures are logged: the trace works without a post-mortem copy.
func (d *Dom0) pmArm() {
	d.mu.Lock()
	l := d.link
	d.mu.Unlock()
	if l != nil {
		d.pmArmOn(l)
	}
}

// pmArmOn is pmArm on link l.
func (d *Dom0) pmArmOn(l *hvLink) {
	rep, files, _, err := callOn(l, &wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleObserver, PID: os.Getpid()}})
	if err != nil {
		if !errors.Is(err, wire.ErrNoTrace) {
			d.log.Warn("post-mortem copy: map failed", "err", err)
		}
		return
	}
	// Only the descriptors are kept: give the reference back now.
	if _, _, _, err := callOn(l, &wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: rep.MapID}}); err != nil {
		d.log.Warn("post-mortem copy: unmap failed", "err", err)
	}
	mrep, mfiles, _, err := callOn(l, &wire.Request{Op: wire.OpMetadata})
	if err != nil {
		closeFiles(files)
		d.log.Warn("post-mortem copy: metadata failed", "err", err)
		return
	}
	h := &heldTrace{files: files, meta: mfiles[0], metaVersion: mrep.MetadataVersion}
	d.pm.mu.Lock()
	old := d.pm.live
	d.pm.live = h
	d.pm.mu.Unlock()
	old.close()
}

// pmHypervisorGone makes the armed trace the post-mortem one (replacing an
// older post-mortem trace, whose memory is then released).
// A trace the hypervisor destroyed on its way out (a clean shutdown) is
// released instead.
func (d *Dom0) pmHypervisorGone() {
	d.pm.mu.Lock()
	live := d.pm.live
	d.pm.live = nil
	d.pm.mu.Unlock()
	if live == nil {
		return
	}
	if live.destroyed() {
		live.close()
		return
	}
	d.pm.mu.Lock()
	old := d.pm.dead
	d.pm.dead = live
	d.pm.mu.Unlock()
	old.close()
	d.log.Warn("the hypervisor died: its trace is held for a post-mortem snapshot (lttctl-xen snapshot; lttctl-xen destroy releases it)")
}

// destroyed reports whether the trace's control region says it was
// destroyed (read through the descriptor, without mapping it).
func (h *heldTrace) destroyed() bool {
	f := h.files[0]
	fi, err := f.Stat()
	if err != nil || fi.Size() <= 0 || fi.Size() > 64<<20 {
		return false
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return false
	}
	c, err := shm.OpenControl(b)
	return err == nil && c.State() == shm.StateDestroyed
}

// pmHeld reports whether a post-mortem trace is held.
func (d *Dom0) pmHeld() bool {
	d.pm.mu.Lock()
	defer d.pm.mu.Unlock()
	return d.pm.dead != nil
}

// pmRelease drops both held traces.
func (d *Dom0) pmRelease() {
	d.pm.mu.Lock()
	live, dead := d.pm.live, d.pm.dead
	d.pm.live, d.pm.dead = nil, nil
	d.pm.mu.Unlock()
	live.close()
	dead.close()
}

// pmServing returns the post-mortem trace if observers should be served
// from it: one is held and the bound hypervisor (if any) has no armed trace.
//
// A held trace whose control region says "destroyed" is released here: the
// hypervisor shut down cleanly, but closed its socket (which dom0 took for
// a death) before it destroyed the trace. By the time a tool asks, the
// state is final.
func (d *Dom0) pmServing() *heldTrace {
	d.pm.mu.Lock()
	defer d.pm.mu.Unlock()
	if d.pm.live != nil || d.pm.dead == nil {
		return nil
	}
	if d.pm.dead.destroyed() {
		d.pm.dead.close()
		d.pm.dead = nil
		d.log.Info("released the trace of a hypervisor that shut down cleanly")
		return nil
	}
	return d.pm.dead
}

// pmDispatch serves the ops the post-mortem trace answers, and reports
// whether it handled req. It runs before the relay.
func (d *Dom0) pmDispatch(c *client, req *wire.Request) (bool, error) {
	switch req.Op {
	case wire.OpMap:
		// A consumer (lttd-xen re-attaching) gets the relay's answer (the
		// hypervisor is unavailable, or has no trace): there is nothing
		// left to consume, only to copy.
		h := d.pmServing()
		if h == nil || req.Map == nil || req.Map.Role != wire.RoleObserver {
			return false, nil
		}
		// The files stay dom0's: the reply sends duplicates.
		return true, c.conn.Reply(&wire.Reply{MapID: pmMapID}, fds(h.files)...)
	case wire.OpUnmap:
		if req.Unmap.MapID != pmMapID {
			return false, nil
		}
		return true, c.conn.Reply(nil)
	case wire.OpMetadata:
		h := d.pmServing()
		if h == nil {
			return false, nil
		}
		return true, c.conn.Reply(&wire.Reply{MetadataVersion: h.metaVersion}, int(h.meta.Fd()))
	case wire.OpStatus:
		d.mu.Lock()
		bound := d.link != nil
		d.mu.Unlock()
		if bound || d.pmServing() == nil {
			return false, nil
		}
		return true, fmt.Errorf("the hypervisor is gone; a post-mortem snapshot of its trace is available (lttctl-xen snapshot; lttctl-xen destroy releases it): %w", wire.ErrUnavailable)
	case wire.OpDestroy:
		if d.pmServing() == nil && !d.pmHeld() {
			return false, nil
		}
		d.pmRelease()
		d.log.Info("post-mortem trace released")
		d.mu.Lock()
		bound := d.link != nil
		d.mu.Unlock()
		if bound { // the bound hypervisor's own trace, if it has one, goes too
			_, files, _, err := d.call(&wire.Request{Op: wire.OpTraceDestroy})
			closeFiles(files)
			if err != nil && !errors.Is(err, wire.ErrNoTrace) {
				return true, err
			}
		}
		return true, c.conn.Reply(nil)
	}
	return false, nil
}

// pmAfterRelay re-arms after the ops that make or change a trace, and
// drops the armed copy when the trace is destroyed.
func (d *Dom0) pmAfterRelay(op wire.Op) {
	switch op {
	case wire.OpCreate, wire.OpEventAdd:
		d.pmArm()
	case wire.OpDestroy:
		d.pm.mu.Lock()
		live := d.pm.live
		d.pm.live = nil
		d.pm.mu.Unlock()
		live.close()
	}
}
