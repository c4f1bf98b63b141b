package hypervisor

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Event filtering. A trace keeps the user's enable/disable requests as an
// ordered list of rules; an event is enabled when the last rule whose glob
// matches its name enables it (no match: disabled). The rules, not a fixed
// set of ids, are kept so that an event type registered later is enabled
// or not by the same requests. From the rules the hypervisor computes a
// bitmap over event ids that the write path reads with one atomic load.

type filterRule struct {
	enable bool
	glob   string
}

// eventMask is an immutable bitmap over event ids, swapped atomically.
type eventMask []uint64

func (m *eventMask) has(id uint32) bool {
	if m == nil {
		return true
	}
	return m.hasID(id)
}

func (m eventMask) hasID(id uint32) bool {
	w := int(id >> 6)
	return w < len(m) && m[w]&(1<<(id&63)) != 0
}

// computeMask evaluates rules over events.
func computeMask(rules []filterRule, events []*record.Event) eventMask {
	m := make(eventMask, (len(events)+63)/64)
	for _, ev := range events {
		on := false
		for _, r := range rules {
			if ok, _ := path.Match(r.glob, ev.Name); ok {
				on = r.enable
			}
		}
		if on {
			m[ev.ID>>6] |= 1 << (ev.ID & 63)
		}
	}
	return m.withMarkers()
}

// checkGlobs refuses malformed globs and globs that match no event, so a
// typo does not silently record nothing.
func checkGlobs(globs []string, events []*record.Event) error {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return withCode(fmt.Errorf("event glob %q: %w", g, err), wire.ErrBadRequest)
		}
		if !slices.ContainsFunc(events, func(ev *record.Event) bool { ok, _ := path.Match(g, ev.Name); return ok }) {
			return withCode(fmt.Errorf("event glob %q matches no event type (see: lttctl-xen event list)", g), wire.ErrNotFound)
		}
	}
	return nil
}

// initialRules turns create's --events into rules (empty: everything).
func initialRules(globs []string) []filterRule {
	if len(globs) == 0 {
		return []filterRule{{enable: true, glob: "*"}}
	}
	rules := make([]filterRule, len(globs))
	for i, g := range globs {
		rules[i] = filterRule{enable: true, glob: g}
	}
	return rules
}

// setFilterLocked applies enable/disable requests to t. h.mu is held.
func (h *Hypervisor) setFilterLocked(t *Trace, enable bool, globs []string) error {
	events := h.table.Events()
	if err := checkGlobs(globs, events); err != nil {
		return err
	}
	for _, g := range globs {
		t.rules = append(t.rules, filterRule{enable: enable, glob: g})
	}
	t.mask.Store(new(computeMask(t.rules, events)))
	return nil
}

// SetEvents is enable_event / disable_event: live while tracing.
func (h *Hypervisor) SetEvents(enable bool, globs []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return err
	}
	return h.setFilterLocked(t, enable, globs)
}

// AddEvent is event_add: it registers a new event type and publishes the
// new metadata version in the control page, then raises the VIRQ so the
// consumer rewrites its metadata file before any record of the new type
// can reach it (the version is stored before AddEvent returns, hence
// before any emit of the new type).
func (h *Hypervisor) AddEvent(decl string) (*record.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	ev, version, err := h.table.AddDecl(decl)
	if err != nil {
		if errors.Is(err, record.ErrDuplicateEvent) {
			return nil, withCode(fmt.Errorf("event type %s already exists (see: lttctl-xen event list)", declName(decl)), wire.ErrExists)
		}
		return nil, withCode(err, wire.ErrBadRequest)
	}
	for _, t := range h.liveTracesLocked() {
		t.mask.Store(new(computeMask(t.rules, h.table.Events())))
		t.ch.Control().SetMetadataVersion(version)
	}
	h.virq.raise()
	h.log.Info("event type added", "event", ev.Decl(), "id", ev.ID, "metadata_version", version)
	return ev, nil
}

func declName(decl string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(decl), "(")
	return strings.TrimSpace(name)
}

// liveTracesLocked is the current trace and the destroyed ones still
// mapped: all need the new metadata.
func (h *Hypervisor) liveTracesLocked() []*Trace {
	var ts []*Trace
	if h.trace != nil {
		ts = append(ts, h.trace)
	}
	for t := range h.zombies {
		ts = append(ts, t)
	}
	return ts
}

// EventList is event_list.
func (h *Hypervisor) EventList() []wire.EventInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	var mask *eventMask
	if h.trace != nil {
		mask = h.trace.mask.Load()
	}
	events := h.table.Events()
	out := make([]wire.EventInfo, 0, len(events))
	for _, ev := range events {
		out = append(out, eventInfo(ev, mask.has(ev.ID)))
	}
	return out
}

func eventInfo(ev *record.Event, enabled bool) wire.EventInfo {
	info := wire.EventInfo{ID: ev.ID, Name: ev.Name, Enabled: enabled, Fields: []wire.FieldInfo{}}
	for _, f := range ev.Fields {
		info.Fields = append(info.Fields, wire.FieldInfo{Name: f.Name, Type: f.Type.String()})
	}
	return info
}

// enabledNamesLocked lists the enabled event names of t.
func (h *Hypervisor) enabledNamesLocked(t *Trace) []string {
	mask := t.mask.Load()
	names := []string{}
	for _, ev := range h.table.Events() {
		if mask.has(ev.ID) {
			names = append(names, ev.Name)
		}
	}
	return names
}
