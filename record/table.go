package record

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Table is the set of event types of a trace, with dense ids from 0 in
// registration order. It is the one place event types are described: the
// writer encodes with its events and [Metadata] declares them.
//
// A Table is safe for concurrent use. Readers ([Table.Lookup],
// [Table.ByName], [Table.Events], [Table.Version], [Table.Snapshot]) are
// lock-free: they load an immutable snapshot through an atomic pointer, so a
// writer's hot path never blocks on a registration. [Table.Add] serialises
// registrations under a mutex and publishes a new snapshot.
type Table struct {
	mu   sync.Mutex // serialises Add; readers never take it
	snap atomic.Pointer[tableSnapshot]
}

// tableSnapshot is immutable once published.
type tableSnapshot struct {
	version uint64
	events  []*Event // index = id
	byName  map[string]*Event
}

// NewTable returns a table holding events, which must have dense ids 0, 1,
// … in order and distinct names (it is how [Builtin] and a decoder's table
// are built). Its version is 0.
func NewTable(events ...*Event) (*Table, error) {
	s := &tableSnapshot{events: make([]*Event, 0, len(events)), byName: make(map[string]*Event, len(events))}
	for i, e := range events {
		if err := e.validate(); err != nil {
			return nil, err
		}
		if e.ID != uint32(i) {
			return nil, fmt.Errorf("%w: event %s has id %d, want %d (ids are dense from 0)", ErrBadDecl, e.Name, e.ID, i)
		}
		if s.byName[e.Name] != nil {
			return nil, fmt.Errorf("%w: %s", ErrDuplicateEvent, e.Name)
		}
		s.events = append(s.events, e)
		s.byName[e.Name] = e
	}
	t := &Table{}
	t.snap.Store(s)
	return t, nil
}

// Add registers a new event type with the next id and returns it with the
// table's new version (one more than before: every successful Add increments
// it). Errors wrap [ErrBadDecl] (invalid name or fields, see [NewEvent]) or
// [ErrDuplicateEvent]. Events already handed out are unaffected.
func (t *Table) Add(name string, fields []Field) (*Event, uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.load()
	if old.byName[name] != nil {
		return nil, old.version, fmt.Errorf("%w: %s", ErrDuplicateEvent, name)
	}
	if uint64(len(old.events)) > uint64(^uint32(0)) {
		return nil, old.version, fmt.Errorf("%w: event id space exhausted", ErrBadDecl)
	}
	e, err := NewEvent(uint32(len(old.events)), name, fields)
	if err != nil {
		return nil, old.version, err
	}
	s := &tableSnapshot{
		version: old.version + 1,
		events:  append(old.events[:len(old.events):len(old.events)], e),
		byName:  make(map[string]*Event, len(old.byName)+1),
	}
	for k, v := range old.byName {
		s.byName[k] = v
	}
	s.byName[name] = e
	t.snap.Store(s)
	return e, s.version, nil
}

// AddDecl parses decl with [ParseDecl] and registers the event with [Table.Add].
func (t *Table) AddDecl(decl string) (*Event, uint64, error) {
	name, fields, err := ParseDecl(decl)
	if err != nil {
		return nil, t.Version(), err
	}
	return t.Add(name, fields)
}

func (t *Table) load() *tableSnapshot {
	if s := t.snap.Load(); s != nil {
		return s
	}
	return &tableSnapshot{}
}

// Lookup returns the event with the given id.
func (t *Table) Lookup(id uint32) (*Event, bool) {
	s := t.load()
	if uint64(id) >= uint64(len(s.events)) {
		return nil, false
	}
	return s.events[id], true
}

// ByName returns the event called name.
func (t *Table) ByName(name string) (*Event, bool) {
	e, ok := t.load().byName[name]
	return e, ok
}

// Events returns the events in id order. The slice is shared with the
// table's snapshot: callers must not modify it.
func (t *Table) Events() []*Event { return t.load().events }

// Version returns the number of [Table.Add] calls that succeeded.
func (t *Table) Version() uint64 { return t.load().version }

// Snapshot returns the events and the version they belong to, read
// atomically together (use it to write metadata and record its version).
// The slice must not be modified.
func (t *Table) Snapshot() ([]*Event, uint64) {
	s := t.load()
	return s.events, s.version
}

// builtinDecls declares [Builtin]'s events in id order.
var builtinDecls = []string{
	"sched_switch(u16 prev_dom, u16 prev_vcpu, s8 prev_state, u16 next_dom, u16 next_vcpu)",
	"vcpu_wake(u16 dom, u16 vcpu)",
	"vcpu_block(u16 dom, u16 vcpu)",
	"hypercall_entry(u64 op, u32 vcpu)",
	"hypercall_exit(u64 op, s64 ret)",
	"irq_entry(u32 irq, u8 vector)",
	"irq_exit(u32 irq)",
	"page_fault(u16 dom, u16 vcpu, u64 addr, u32 error_code)",
	"timer(u64 expires, s64 delta_ns)",
	"domain_create(u16 dom, u16 max_vcpus, u64 mem_kb, string name)",
	"domain_destroy(u16 dom, s32 reason)",
	"cpu_online(u32 cpu)",
	"cpu_offline(u32 cpu)",
	"printk(string msg)",
}

// Ids of the built-in events in a table made by [Builtin].
const (
	IDSchedSwitch uint32 = iota
	IDVCPUWake
	IDVCPUBlock
	IDHypercallEntry
	IDHypercallExit
	IDIRQEntry
	IDIRQExit
	IDPageFault
	IDTimer
	IDDomainCreate
	IDDomainDestroy
	IDCPUOnline
	IDCPUOffline
	IDPrintk
	NumBuiltin // number of built-in events; the first run-time id
)

// Builtin returns a new table holding the built-in Xen-like events, ids
// [IDSchedSwitch] … [IDPrintk] in this order, at version 0:
//
//	sched_switch(u16 prev_dom, u16 prev_vcpu, s8 prev_state, u16 next_dom, u16 next_vcpu)
//	    a pCPU switches vCPUs; prev_state is what the previous vCPU is left
//	    in: 0 runnable, 1 blocked, 2 offline, -1 unknown
//	vcpu_wake(u16 dom, u16 vcpu)          a vCPU becomes runnable
//	vcpu_block(u16 dom, u16 vcpu)         a vCPU blocks
//	hypercall_entry(u64 op, u32 vcpu)     a vCPU enters hypercall op; the
//	                                      fixed (u64, u32) event that
//	                                      [EncodeU64U32] encodes
//	hypercall_exit(u64 op, s64 ret)       the hypercall returns ret
//	irq_entry(u32 irq, u8 vector)         a physical IRQ is taken
//	irq_exit(u32 irq)                     its handler returns
//	page_fault(u16 dom, u16 vcpu, u64 addr, u32 error_code)
//	    a guest page fault at addr, with the hardware error code
//	timer(u64 expires, s64 delta_ns)      a timer fires, delta_ns late
//	                                      (negative: early)
//	domain_create(u16 dom, u16 max_vcpus, u64 mem_kb, string name)
//	    a domain is created
//	domain_destroy(u16 dom, s32 reason)   a domain is destroyed; reason
//	                                      is its shutdown code
//	cpu_online(u32 cpu)                   a pCPU is brought up (hotplug)
//	cpu_offline(u32 cpu)                  a pCPU is taken down
//	printk(string msg)                    a console message (variable size)
//
// Between them they use every field type but s16 and bytes. Each call
// returns an independent table.
func Builtin() *Table {
	events := make([]*Event, len(builtinDecls))
	for i, d := range builtinDecls {
		name, fields, err := ParseDecl(d)
		if err == nil {
			events[i], err = NewEvent(uint32(i), name, fields)
		}
		if err != nil {
			panic("record: bad built-in declaration: " + err.Error())
		}
	}
	t, err := NewTable(events...)
	if err != nil {
		panic("record: bad built-in table: " + err.Error())
	}
	return t
}
