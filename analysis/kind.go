package analysis

import "github.com/lttng-xen/lttng-xen/record"

// kind is what an event type means to the analysis, with the indices of
// the fields it uses in a record's Values.
type kind struct {
	id int
	f  [5]int
}

// Event kinds.
const (
	kOther = iota
	kSwitch
	kWake
	kBlock
	kCallEntry
	kCallExit
	kIRQEntry
	kIRQExit
	kPageFault
	kOnline
	kOffline
)

// kinds names the built-in events the analysis knows and the integer
// fields it reads from them, in the order of kind.f.
var kinds = map[string]struct {
	id     int
	fields []string
}{
	"sched_switch":    {kSwitch, []string{"prev_dom", "prev_vcpu", "prev_state", "next_dom", "next_vcpu"}},
	"vcpu_wake":       {kWake, []string{"dom", "vcpu"}},
	"vcpu_block":      {kBlock, []string{"dom", "vcpu"}},
	"hypercall_entry": {kCallEntry, []string{"op", "vcpu"}},
	"hypercall_exit":  {kCallExit, []string{"op", "ret"}},
	"irq_entry":       {kIRQEntry, []string{"irq", "vector"}},
	"irq_exit":        {kIRQExit, []string{"irq"}},
	"page_fault":      {kPageFault, []string{"dom", "vcpu", "addr", "error_code"}},
	"cpu_online":      {kOnline, []string{"cpu"}},
	"cpu_offline":     {kOffline, []string{"cpu"}},
}

// kindOf returns e's kind: kOther unless e has a known name and every
// field the analysis reads from it, as an integer.
func kindOf(e *record.Event) kind {
	d, ok := kinds[e.Name]
	if !ok {
		return kind{id: kOther}
	}
	k := kind{id: d.id}
	for i, name := range d.fields {
		j := e.FieldIndex(name)
		if j < 0 || !e.Fields[j].Type.Integer() {
			return kind{id: kOther}
		}
		k.f[i] = j
	}
	return k
}
