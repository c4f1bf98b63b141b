package hypervisor

import (
	"encoding/json"
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

// Caps on what the tools can make the hypervisor hold. Each keeps a reply
// (event_list's is paged, status's enabled_events capped) and the cost of a
// request bounded; each is refused with a one-line error giving it, code
// too_large. Names (at most [record.MaxNameLen] bytes) and fields per event
// (at most [record.MaxFields]) are capped by the record package.
const (
	// MaxEventTypes bounds the event types, built-in ones included.
	MaxEventTypes = 4096
	// MaxGlobLen bounds one enable/disable glob, in bytes.
	MaxGlobLen = 256
	// MaxFilterRules bounds a trace's filter rules once normalised (see
	// [normaliseRules]): rules naming one event type are at most one per
	// type, so only distinct patterns count towards it.
	MaxFilterRules = 1024
)

// normaliseRules drops the rules that can no longer decide whether any
// event, present or registered later, is enabled, keeping the order of the
// others: a rule followed by one with the same glob, or by a catch-all
// ("*"); a rule for one name (a glob without metacharacters) followed by
// one whose glob matches that name; a leading disable (nothing is enabled
// before the first rule). Repeating requests therefore never grows the
// list, and its length is bounded by the number of event types plus the
// distinct patterns (capped by [MaxFilterRules]). It reuses rules' array.
func normaliseRules(rules []filterRule) []filterRule {
	kept := make([]filterRule, 0, len(rules)) // in reverse order
	later := make(map[string]bool, len(rules))
	catchAll := false
	for i := len(rules) - 1; i >= 0 && !catchAll; i-- {
		r := rules[i]
		if later[r.glob] {
			continue
		}
		if literal(r.glob) && slices.ContainsFunc(kept, func(k filterRule) bool { ok, _ := path.Match(k.glob, r.glob); return ok }) {
			continue
		}
		kept = append(kept, r)
		later[r.glob] = true
		catchAll = strings.Trim(r.glob, "*") == ""
	}
	for len(kept) > 0 && !kept[len(kept)-1].enable {
		kept = kept[:len(kept)-1] // a leading disable
	}
	slices.Reverse(kept)
	return append(rules[:0], kept...)
}

// literal reports whether glob has no [path.Match] metacharacter: it
// matches one name, itself.
func literal(glob string) bool { return !strings.ContainsAny(glob, `*?[\`) }

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

// checkGlobs refuses malformed globs, globs over [MaxGlobLen] and globs
// that match no event, so a typo does not silently record nothing.
func checkGlobs(globs []string, events []*record.Event) error {
	for _, g := range globs {
		if len(g) > MaxGlobLen {
			return withCode(fmt.Errorf("event glob %.20q… is %d bytes, at most %d allowed", g, len(g), MaxGlobLen), wire.ErrTooLarge)
		}
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
	return normaliseRules(rules)
}

// setFilterLocked applies enable/disable requests to t. h.mu is held.
func (h *Hypervisor) setFilterLocked(t *Trace, enable bool, globs []string) error {
	events := h.table.Events()
	if err := checkGlobs(globs, events); err != nil {
		return err
	}
	rules := slices.Clone(t.rules)
	for _, g := range globs {
		rules = append(rules, filterRule{enable: enable, glob: g})
	}
	rules = normaliseRules(rules)
	if len(rules) > MaxFilterRules {
		return withCode(fmt.Errorf("the trace would hold %d filter rules, at most %d allowed (disable-event '*' clears them)", len(rules), MaxFilterRules), wire.ErrTooLarge)
	}
	t.rules = rules
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
	if n := len(h.table.Events()); n >= MaxEventTypes {
		return nil, withCode(fmt.Errorf("the hypervisor holds %d event types, at most %d allowed", n, MaxEventTypes), wire.ErrTooLarge)
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

// eventPageBudget bounds the JSON of the events in one event_list reply,
// leaving room in the message for the rest of the reply. One event always
// fits: its name, and at most [record.MaxFields] fields of names of at most
// [record.MaxNameLen] bytes, stay well below it.
const eventPageBudget = 48 << 10

// EventList is event_list: the event types from id from on, as many as fit
// one reply, and the id of the next page (0: none).
func (h *Hypervisor) EventList(from uint32) (page []wire.EventInfo, next uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var mask *eventMask
	if h.trace != nil {
		mask = h.trace.mask.Load()
	}
	events := h.table.Events()
	page = []wire.EventInfo{}
	size := 0
	for i := int(from); i < len(events); i++ {
		ev := events[i]
		info := eventInfo(ev, mask.has(ev.ID))
		b, err := json.Marshal(info)
		if err != nil || (len(page) > 0 && size+len(b)+1 > eventPageBudget) {
			return page, ev.ID
		}
		size += len(b) + 1
		page = append(page, info)
	}
	return page, 0
}

func eventInfo(ev *record.Event, enabled bool) wire.EventInfo {
	info := wire.EventInfo{ID: ev.ID, Name: ev.Name, Enabled: enabled, Fields: []wire.FieldInfo{}}
	for _, f := range ev.Fields {
		info.Fields = append(info.Fields, wire.FieldInfo{Name: f.Name, Type: f.Type.String()})
	}
	return info
}

// enabledNamesLocked counts the enabled event types of t and lists their
// names, in id order, as many as fit [wire.MaxStatusNames] bytes.
func (h *Hypervisor) enabledNamesLocked(t *Trace) (names []string, count int) {
	mask := t.mask.Load()
	names = []string{}
	size := 0
	for _, ev := range h.table.Events() {
		if !mask.has(ev.ID) {
			continue
		}
		count++
		if size += len(ev.Name) + 3; size <= wire.MaxStatusNames && len(names) == count-1 {
			names = append(names, ev.Name)
		}
	}
	return names, count
}
