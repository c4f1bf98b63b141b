package record

import (
	"errors"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// declCases are declarations near the edges of the name rules: names
// babeltrace2 treats specially (it strips a leading '_' from field names,
// so a Bytes field's generated "_x_length" shows as "x_length"), words of
// TSDL attributes that are not keywords, the longest names, the most
// fields. Each is either refused by [Table.AddDecl] or read by babeltrace2.
var declCases = []string{
	"e(bytes x, u32 x_length)",
	"e(u32 x_length, bytes x)",
	"e(bytes x, bytes x_length)",
	"e(bytes x_length, bytes x)",
	"e(bytes x, string x_length)",
	"e(bytes data_length_length, bytes data_length, bytes data)",
	"e(bytes x, u8 x_len, u8 length, u8 x_length_)",
	"x_length(bytes x)",
	"e(u8 id, u64 timestamp, u32 cpu_id, u32 magic, u32 stream_id, u8 uuid)",
	"e(u64 packet_size, u64 content_size, u64 events_discarded, u64 packet_seq_num, u64 timestamp_begin, u64 timestamp_end)",
	"e(u8 TRUE, u8 FALSE, u8 true, u8 false, u8 le, u8 be, u8 native, u8 network)",
	"e(u8 size, u8 align, u8 signed, u8 base, u8 encoding, u8 map, u8 byte_order)",
	"e(string UTF8, string ASCII, string none, string name, string fields, string value)",
	"e(u8 length, u8 uint, u8 sequence, u8 array, u8 tracer_name, u8 hostname, u8 domain)",
	"e(u8 packet, u8 header, u8 context, u8 fields_length, bytes fields)",
	"e(u8 _x)",
	"e(u8 x, u8 x)",
	"e(u8 struct)",
	"typealias(u8 x)",
	"metadata(u8 x)",
	strings.Repeat("n", MaxNameLen) + "(bytes " + strings.Repeat("f", MaxNameLen-len(lengthSuffix)) + ")",
	strings.Repeat("n", MaxNameLen) + "(bytes " + strings.Repeat("f", MaxNameLen) + ")",
	manyFields(MaxFields),
	manyFields(MaxFields + 1),
}

// manyFields declares an event with n fields of every type in turn.
func manyFields(n int) string {
	types := []string{"u8", "s16", "bytes", "u32", "string", "s64"}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = types[i%len(types)] + " f" + strings.Repeat("x", i%7) + itoa(i)
	}
	return "many(" + strings.Join(parts, ", ") + ")"
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestBabeltraceReadsEveryAcceptedDecl: each of declCases is refused with
// ErrBadDecl or, once added, makes a trace babeltrace2 reads whole.
func TestBabeltraceReadsEveryAcceptedDecl(t *testing.T) {
	testenv.Babeltrace(t)
	refused := 0
	for _, decl := range declCases {
		name := decl
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			if !checkDeclWithBabeltrace(t, decl) {
				refused++
			}
		})
	}
	// The collisions and the rule breakers above are refused; if none
	// were, the table above has lost its point.
	if refused < 10 {
		t.Errorf("only %d of %d declarations refused", refused, len(declCases))
	}
}

// FuzzDeclBabeltrace generates declarations: every one that [Table.AddDecl]
// accepts must give a trace babeltrace2 reads, record by record as
// written; every one it refuses must say why with ErrBadDecl.
func FuzzDeclBabeltrace(f *testing.F) {
	for _, d := range declCases[:len(declCases)-2] { // the 256-field ones are slow to mutate
		f.Add(d)
	}
	f.Add("net_rx(u32 len, string dev, bytes payload)")
	f.Fuzz(func(t *testing.T, decl string) {
		if len(decl) > 4096 {
			return
		}
		checkDeclWithBabeltrace(t, decl)
	})
}

// checkDeclWithBabeltrace adds decl to the built-in table; if accepted it
// writes a trace holding five records of the new event and a printk, and
// checks babeltrace2 prints each. It reports whether decl was accepted.
func checkDeclWithBabeltrace(t *testing.T, decl string) bool {
	t.Helper()
	tab := Builtin()
	ev, _, err := tab.AddDecl(decl)
	if err != nil {
		if !errors.Is(err, ErrBadDecl) && !errors.Is(err, ErrDuplicateEvent) {
			t.Fatalf("AddDecl(%q): %v wraps neither ErrBadDecl nor ErrDuplicateEvent", decl, err)
		}
		return false
	}
	testenv.Babeltrace(t)
	b := newStreamBuilder(1 << 16)
	printk, _ := tab.Lookup(IDPrintk)
	b.add(printk, []Value{Str("before")})
	for k := range 5 {
		b.add(ev, sampleValues(ev, k))
	}
	dir := writeTrace(t, tab, b.bytes())
	stdout, _ := runBabeltrace(t, dir)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(b.recs) {
		t.Fatalf("decl %q: babeltrace2 printed %d events, wrote %d:\n%s", decl, len(lines), len(b.recs), stdout)
	}
	info := testInfo()
	for i, r := range b.recs {
		var prev uint64
		if i > 0 {
			prev = b.recs[i-1].ts
		}
		if want := btLine(info.Hostname, r, prev, i == 0); !want.MatchString(lines[i]) {
			t.Fatalf("decl %q: event %d:\n got %s\nwant %s", decl, i, lines[i], want)
		}
	}
	return true
}
