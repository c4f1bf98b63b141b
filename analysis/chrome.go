package analysis

import (
	"bufio"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/lttng-xen/lttng-xen/record"
)

// ChromeWriter writes the Trace Event Format (the JSON that Perfetto UI
// and chrome://tracing open): one process, the host; a thread (track) per
// pCPU; on it a slice per vCPU run ("d1v0", "idle") and per offline
// period, with the hypercalls ("sched_op") and IRQs ("irq 40") nested in
// them; every other record an instant event with its fields as args; and
// an instant "lost" where a stream lost records. Times are µs from the
// window's start.
//
// It is the [Handler] of a [Replayer]: instants are written as they come,
// slices are kept per pCPU and written by [ChromeWriter.Close], nested
// properly (a hypercall or IRQ that outlasts its run is cut at the run's
// end, with args.cut = true, so viewers never see slices that overlap).
type ChromeWriter struct {
	w      *bufio.Writer
	info   record.TraceInfo
	begin  uint64
	n      int // events written
	kinds  map[*record.Event]kind
	slices map[uint32][]slice
	buf    []byte
	err    error
}

// slice is one complete ("X") event.
type slice struct {
	b, e  uint64
	depth int    // 0: a run or offline period, 1: a hypercall or IRQ
	name  string // JSON-ready: quoted
	cat   string
	args  string // JSON object, or ""
}

// NewChromeWriter returns a ChromeWriter writing to w a trace described by
// info.
func NewChromeWriter(w io.Writer, info record.TraceInfo) *ChromeWriter {
	return &ChromeWriter{w: bufio.NewWriterSize(w, 256<<10), info: info, kinds: make(map[*record.Event]kind), slices: make(map[uint32][]slice)}
}

// Start implements [Handler].
func (c *ChromeWriter) Start(begin, end uint64) {
	c.begin = begin
	wall := c.info.Wall(0)
	c.printf(`{"displayTimeUnit":"ns","otherData":{"host":%s,"clock_offset":%q,"window_begin_ns":%d},"traceEvents":[`,
		jsonString(c.info.Hostname), wall.Format("2006-01-02T15:04:05.000000000Z"), begin)
	c.event(`{"ph":"M","name":"process_name","pid":0,"args":{"name":"Xen host %s"}}`, jsonEscape(c.info.Hostname))
}

func (c *ChromeWriter) printf(format string, args ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, args...)
	}
}

// event writes one element of traceEvents.
func (c *ChromeWriter) event(format string, args ...any) {
	if c.n > 0 {
		c.printf(",\n")
	}
	c.n++
	c.printf(format, args...)
}

// us formats t as µs from the window's start.
func (c *ChromeWriter) us(t uint64) string {
	d := t - min(t, c.begin)
	return strconv.FormatUint(d/1000, 10) + "." + fmt.Sprintf("%03d", d%1000)
}

// Record implements [Handler]: an instant for each record in the window
// that no slice stands for.
func (c *ChromeWriter) Record(rec *record.Record, t uint64) {
	if t < c.begin {
		return
	}
	k, ok := c.kinds[rec.Event]
	if !ok {
		k = kindOf(rec.Event)
		c.kinds[rec.Event] = k
	}
	switch k.id {
	case kSwitch, kCallEntry, kCallExit, kIRQEntry, kIRQExit:
		return
	}
	b := append(c.buf[:0], `{"ph":"i","s":"t","pid":0,"tid":`...)
	b = strconv.AppendUint(b, uint64(rec.CPU), 10)
	b = append(b, `,"ts":`...)
	b = append(b, c.us(t)...)
	b = append(b, `,"cat":"event","name":`...)
	b = append(b, jsonString(rec.Event.Name)...)
	b = append(b, `,"args":{`...)
	for i, f := range rec.Event.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonString(f.Name)...)
		b = append(b, ':')
		b = appendJSONValue(b, f, rec.Values[i])
	}
	b = append(b, "}}"...)
	c.buf = b
	c.event("%s", b)
}

// appendJSONValue appends v: integers as numbers (as strings beyond 2^53,
// which JSON readers cannot hold exactly; addresses as hex strings),
// strings quoted, bytes as a hex string.
func appendJSONValue(b []byte, f record.Field, v record.Value) []byte {
	switch {
	case f.Name == "addr" && f.Type.Integer():
		return append(append(b, `"0x`...), strconv.FormatUint(v.U, 16)+`"`...)
	case f.Type.Signed():
		n := v.Int()
		if n > 1<<53 || n < -(1<<53) {
			return strconv.AppendQuote(b, strconv.FormatInt(n, 10))
		}
		return strconv.AppendInt(b, n, 10)
	case f.Type.Integer():
		if v.U > 1<<53 {
			return strconv.AppendQuote(b, strconv.FormatUint(v.U, 10))
		}
		return strconv.AppendUint(b, v.U, 10)
	case f.Type == record.String:
		return append(b, jsonString(v.S)...)
	}
	return append(append(append(b, '"'), hex.EncodeToString(v.B)...), '"')
}

// Run implements [Handler].
func (c *ChromeWriter) Run(cpu uint32, dom, vcpu uint16, b, e uint64) {
	name := DomainLabel(dom)
	if dom != IdleDomain {
		name += "v" + strconv.FormatUint(uint64(vcpu), 10)
	}
	c.slices[cpu] = append(c.slices[cpu], slice{b: b, e: e, name: jsonString(name), cat: "run",
		args: fmt.Sprintf(`{"domain":%d,"vcpu":%d}`, dom, vcpu)})
}

// Call implements [Handler].
func (c *ChromeWriter) Call(cpu uint32, op uint64, b, e uint64) {
	c.slices[cpu] = append(c.slices[cpu], slice{b: max(b, c.begin), e: e, depth: 1, name: jsonString(HypercallLabel(op)), cat: "hypercall",
		args: fmt.Sprintf(`{"op":%d,"latency_ns":%d}`, op, e-b)})
}

// IRQ implements [Handler].
func (c *ChromeWriter) IRQ(cpu uint32, irq uint32, vector uint8, b, e uint64) {
	c.slices[cpu] = append(c.slices[cpu], slice{b: max(b, c.begin), e: e, depth: 1, name: jsonString("irq " + strconv.FormatUint(uint64(irq), 10)), cat: "irq",
		args: fmt.Sprintf(`{"irq":%d,"vector":"%#x","duration_ns":%d}`, irq, vector, e-b)})
}

// Offline implements [Handler].
func (c *ChromeWriter) Offline(cpu uint32, b, e uint64) {
	c.slices[cpu] = append(c.slices[cpu], slice{b: b, e: e, name: `"offline"`, cat: "hotplug"})
}

// Close writes the slices, a thread name per pCPU and an instant per
// loss in the window, ends the JSON and flushes it.
func (c *ChromeWriter) Close(losses []record.Loss, end uint64) error {
	cpus := make([]uint32, 0, len(c.slices))
	for cpu := range c.slices {
		cpus = append(cpus, cpu)
	}
	for _, l := range losses {
		if l.HasCPU && c.slices[l.CPU] == nil {
			c.slices[l.CPU] = nil
			cpus = append(cpus, l.CPU)
		}
	}
	slices.Sort(cpus)
	cpus = slices.Compact(cpus)
	for _, cpu := range cpus {
		c.event(`{"ph":"M","name":"thread_name","pid":0,"tid":%d,"args":{"name":"pCPU %d"}}`, cpu, cpu)
		c.event(`{"ph":"M","name":"thread_sort_index","pid":0,"tid":%d,"args":{"sort_index":%d}}`, cpu, cpu)
		c.writeSlices(cpu, c.slices[cpu])
	}
	for _, l := range losses {
		t := c.info.NS(l.Before)
		if !l.HasCPU || t < c.begin || t >= end {
			continue
		}
		c.event(`{"ph":"i","s":"t","pid":0,"tid":%d,"ts":%s,"cat":"lost","name":"lost","args":{"records":%d,"after_ns":%d}}`,
			l.CPU, c.us(t), l.Count, c.info.NS(l.After))
	}
	c.printf("\n]}\n")
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

// writeSlices writes one pCPU's slices, properly nested: sorted by start,
// outer ones first, each cut at the end of the slice it starts in.
func (c *ChromeWriter) writeSlices(cpu uint32, s []slice) {
	slices.SortFunc(s, func(a, b slice) int {
		return cmp.Or(cmp.Compare(a.b, b.b), cmp.Compare(a.depth, b.depth), cmp.Compare(b.e, a.e))
	})
	var stack []uint64 // ends of the open enclosing slices
	for _, x := range s {
		for len(stack) > 0 && stack[len(stack)-1] <= x.b {
			stack = stack[:len(stack)-1]
		}
		cut := false
		if len(stack) > 0 && x.e > stack[len(stack)-1] {
			x.e, cut = stack[len(stack)-1], true
		}
		stack = append(stack, x.e)
		args := cmp.Or(x.args, "{}")
		if cut {
			args = strings.TrimSuffix(strings.TrimSuffix(args, "}"), "{") + `,"cut":true}`
			args = strings.Replace(args, "{,", "{", 1)
		}
		c.event(`{"ph":"X","pid":0,"tid":%d,"ts":%s,"dur":%s,"cat":%q,"name":%s,"args":%s}`,
			cpu, c.us(x.b), durUS(x.e-x.b), x.cat, x.name, args)
	}
}

// durUS formats ns as µs with three decimals.
func durUS(d uint64) string {
	return strconv.FormatUint(d/1000, 10) + "." + fmt.Sprintf("%03d", d%1000)
}

// jsonString returns s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonEscape returns s escaped for use inside a JSON string.
func jsonEscape(s string) string {
	q := jsonString(s)
	return q[1 : len(q)-1]
}
