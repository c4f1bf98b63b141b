package record

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestRecordLayoutConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"RecordAlign", RecordAlign, 8},
		{"OffTimestamp", OffTimestamp, 0},
		{"OffID", OffID, 8},
		{"HeaderSize", HeaderSize, 12},
		{"SizeU64U32", SizeU64U32, 28},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestEncodeLayout pins the exact bytes of records against
// docs/ARCHITECTURE.md: the 12-byte header, then the payload from the
// header's end rounded up to the payload's alignment (CTF aligns the
// fields struct as a whole: 16 when a field is 64-bit), each field at its
// natural alignment, with zeroed gaps.
func TestEncodeLayout(t *testing.T) {
	le := binary.LittleEndian
	hdr := func(ts uint64, id uint32) []byte {
		b := le.AppendUint64(nil, ts)
		return le.AppendUint32(b, id)
	}
	pad4 := []byte{0, 0, 0, 0} // header end (12) up to 16 for a 64-bit payload
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		decl string
		vals []Value
		want []byte // after the header
	}{
		{"e()", nil, nil},
		{"e(u8 a)", []Value{Uint(0xab)}, []byte{0xab}},
		{"e(u8 a, u16 b)", []Value{Uint(1), Uint(0x0302)}, []byte{1, 0, 2, 3}},
		{"e(u8 a, u32 b)", []Value{Uint(1), Uint(0x05040302)}, []byte{1, 0, 0, 0, 2, 3, 4, 5}},
		{"e(u8 a, u64 b)", []Value{Uint(1), Uint(0x0908070605040302)}, cat(pad4, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 3, 4, 5, 6, 7, 8, 9})},
		{"e(s8 a, s16 b, s32 c, s64 d)", []Value{Int(-1), Int(-2), Int(-3), Int(-4)},
			cat(pad4, []byte{0xff, 0}, le.AppendUint16(nil, 0xfffe), le.AppendUint32(nil, 0xfffffffd), le.AppendUint64(nil, 0xfffffffffffffffc))},
		{"e(u64 op, u32 vcpu)", []Value{Uint(7), Uint(9)}, cat(pad4, le.AppendUint64(nil, 7), le.AppendUint32(nil, 9))},
		{"e(u32 a, u64 b)", []Value{Uint(1), Uint(2)}, cat(pad4, le.AppendUint32(nil, 1), pad4, le.AppendUint64(nil, 2))},
		{"e(string s, u8 x)", []Value{Str("hi"), Uint(5)}, []byte{'h', 'i', 0, 5}},
		{"e(string s)", []Value{Str("")}, []byte{0}},
		{"e(string s)", []Value{Str("a\x00b")}, []byte{'a', 0}}, // a string ends at its first NUL
		{"e(u8 a, bytes b)", []Value{Uint(1), Blob([]byte{7, 8})}, []byte{1, 0, 0, 0, 2, 0, 0, 0, 7, 8}},
		{"e(bytes b, u16 c)", []Value{Blob(nil), Uint(1)}, []byte{0, 0, 0, 0, 1, 0}},
		{"e(string s, u16 c)", []Value{Str("ab"), Uint(0x0201)}, []byte{'a', 'b', 0, 0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.decl, func(t *testing.T) {
			name, fields, err := ParseDecl(tt.decl)
			if err != nil {
				t.Fatal(err)
			}
			e, err := NewEvent(42, name, fields)
			if err != nil {
				t.Fatal(err)
			}
			want := cat(hdr(0x1122334455667788, 42), tt.want)
			dst := bytes.Repeat([]byte{0xee}, 64)
			n := e.Encode(dst, 0x1122334455667788, tt.vals)
			if n != len(want) || e.Size(tt.vals) != n {
				t.Fatalf("Encode = %d, Size = %d, want %d", n, e.Size(tt.vals), len(want))
			}
			if !bytes.Equal(dst[:n], want) {
				t.Fatalf("bytes\n got % x\nwant % x", dst[:n], want)
			}
			if dst[n] != 0xee {
				t.Fatalf("Encode wrote past the record")
			}
			if fs := e.FixedSize(); fs >= 0 && fs != n {
				t.Fatalf("FixedSize = %d, want %d", fs, n)
			}
		})
	}
}

func TestFixedSize(t *testing.T) {
	tab := Builtin()
	for _, c := range []struct {
		name string
		want int
	}{
		{"sched_switch", 22}, {"vcpu_wake", 16}, {"hypercall_entry", SizeU64U32},
		{"hypercall_exit", 32}, {"irq_entry", 17}, {"page_fault", 36},
		{"printk", -1}, {"domain_create", -1},
	} {
		e, ok := tab.ByName(c.name)
		if !ok {
			t.Fatalf("no builtin %s", c.name)
		}
		if got := e.FixedSize(); got != c.want {
			t.Errorf("%s.FixedSize() = %d, want %d", c.name, got, c.want)
		}
		// A literal Event (no precomputed layout) agrees.
		lit := &Event{ID: e.ID, Name: e.Name, Fields: e.Fields}
		if got := lit.FixedSize(); got != c.want {
			t.Errorf("literal %s.FixedSize() = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestSizeMatchesEncode(t *testing.T) {
	tab := testTable(t)
	buf := make([]byte, 4096)
	for _, e := range tab.Events() {
		for k := range 10 {
			vals := sampleValues(e, k)
			n := e.Encode(buf, 1, vals)
			if s := e.Size(vals); s != n {
				t.Errorf("%s values %d: Size %d, Encode wrote %d", e.Name, k, s, n)
			}
		}
	}
}

func TestEncodeU64U32MatchesEncode(t *testing.T) {
	e, _ := Builtin().Lookup(IDHypercallEntry)
	if len(e.Fields) != 2 || e.Fields[0].Type != U64 || e.Fields[1].Type != U32 {
		t.Fatalf("hypercall_entry is %s, want (u64, u32)", e.Decl())
	}
	a := bytes.Repeat([]byte{0xee}, 32)
	b := bytes.Repeat([]byte{0xdd}, 32)
	n1 := e.Encode(a, 99, []Value{Uint(1 << 60), Uint(0xfeedface)})
	n2 := EncodeU64U32(b, 99, e.ID, 1<<60, 0xfeedface)
	a, b = a[:n1], b[:n2] // the bytes past the record are not the encoders'
	if n1 != n2 || !bytes.Equal(a, b) {
		t.Fatalf("EncodeU64U32 differs from Encode:\n% x\n% x", b, a)
	}
}

func TestEncodeZeroAllocs(t *testing.T) {
	tab := testTable(t)
	buf := make([]byte, 4096)
	printk, _ := tab.ByName("printk")
	blob, _ := tab.ByName("blob")
	sw, _ := tab.ByName("sched_switch")
	data := []byte{1, 2, 3}
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"fixed", func() {
			vals := [...]Value{Uint(1), Uint(2), Int(-1), Uint(3), Uint(4)}
			sw.Encode(buf, 1, vals[:])
		}},
		{"string", func() {
			vals := [...]Value{Str("a console message")}
			printk.Encode(buf, 1, vals[:])
		}},
		{"bytes", func() {
			vals := [...]Value{Blob(data), Int(-3), Str("note")}
			blob.Encode(buf, 1, vals[:])
		}},
		{"size", func() {
			vals := [...]Value{Blob(data), Int(-3), Str("note")}
			_ = blob.Size(vals[:])
		}},
		{"u64u32", func() { EncodeU64U32(buf, 1, 3, 4, 5) }},
	} {
		if n := testing.AllocsPerRun(100, c.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, n)
		}
	}
}

func TestEncodePanics(t *testing.T) {
	e, _ := Builtin().ByName("printk")
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"too few values", func() { e.Encode(make([]byte, 64), 0, nil) }},
		{"short buffer", func() { e.Encode(make([]byte, 20), 0, []Value{Str("much too long a message")}) }},
		{"short header", func() { e.Encode(make([]byte, 8), 0, []Value{Str("")}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.fn()
		})
	}
}

func BenchmarkEncodeU64U32(b *testing.B) {
	buf := make([]byte, 64)
	b.SetBytes(SizeU64U32)
	b.ReportAllocs()
	var ts uint64
	for b.Loop() {
		ts++
		EncodeU64U32(buf, ts, IDHypercallEntry, ts, 7)
	}
}

func BenchmarkEncodeFixed(b *testing.B) {
	e, _ := Builtin().Lookup(IDHypercallEntry)
	buf := make([]byte, 64)
	b.SetBytes(int64(e.FixedSize()))
	b.ReportAllocs()
	var ts uint64
	for b.Loop() {
		ts++
		vals := [...]Value{Uint(ts), Uint(7)}
		e.Encode(buf, ts, vals[:])
	}
}

func BenchmarkEncodeSchedSwitch(b *testing.B) {
	e, _ := Builtin().Lookup(IDSchedSwitch)
	buf := make([]byte, 64)
	b.SetBytes(int64(e.FixedSize()))
	b.ReportAllocs()
	var ts uint64
	for b.Loop() {
		ts++
		vals := [...]Value{Uint(1), Uint(2), Int(-1), Uint(3), Uint(4)}
		e.Encode(buf, ts, vals[:])
	}
}

func BenchmarkEncodeString(b *testing.B) {
	e, _ := Builtin().Lookup(IDPrintk)
	buf := make([]byte, 256)
	vals := []Value{Str("(XEN) d1v0: unhandled page fault in guest kernel")}
	b.SetBytes(int64(e.Size(vals)))
	b.ReportAllocs()
	var ts uint64
	for b.Loop() {
		ts++
		n := e.Size(vals)
		e.Encode(buf[:n], ts, vals)
	}
}

// BenchmarkCopy is the baseline: a plain copy of a record's bytes.
func BenchmarkCopy(b *testing.B) {
	src := make([]byte, SizeU64U32)
	dst := make([]byte, 64)
	b.SetBytes(SizeU64U32)
	b.ReportAllocs()
	for b.Loop() {
		copy(dst, src)
	}
}

func BenchmarkMonotonic(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Monotonic()
	}
}
