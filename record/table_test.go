package record

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBuiltin(t *testing.T) {
	tab := Builtin()
	want := []string{"sched_switch", "vcpu_wake", "vcpu_block", "hypercall_entry", "hypercall_exit",
		"irq_entry", "irq_exit", "page_fault", "timer", "domain_create", "domain_destroy",
		"cpu_online", "cpu_offline", "printk"}
	evs := tab.Events()
	if len(evs) != len(want) || len(evs) != int(NumBuiltin) {
		t.Fatalf("%d builtin events, want %d", len(evs), len(want))
	}
	for i, e := range evs {
		if e.ID != uint32(i) || e.Name != want[i] {
			t.Errorf("event %d = %d %s, want %s", i, e.ID, e.Name, want[i])
		}
		if got, ok := tab.Lookup(uint32(i)); !ok || got != e {
			t.Errorf("Lookup(%d) = %v", i, got)
		}
		if got, ok := tab.ByName(e.Name); !ok || got != e {
			t.Errorf("ByName(%s) = %v", e.Name, got)
		}
	}
	if tab.Version() != 0 {
		t.Errorf("Version = %d, want 0", tab.Version())
	}
	for _, c := range []struct {
		id   uint32
		decl string
	}{
		{IDHypercallEntry, "hypercall_entry(u64 op, u32 vcpu)"},
		{IDPrintk, "printk(string msg)"},
	} {
		if e, _ := tab.Lookup(c.id); e.Decl() != c.decl {
			t.Errorf("id %d is %s, want %s", c.id, e.Decl(), c.decl)
		}
	}
	if _, ok := tab.Lookup(NumBuiltin); ok {
		t.Error("Lookup past the end succeeded")
	}
	if _, ok := tab.ByName("nope"); ok {
		t.Error("ByName(nope) succeeded")
	}
	if Builtin() == tab || Builtin().Events()[0] == evs[0] {
		t.Error("Builtin tables share state")
	}
}

func TestTableAdd(t *testing.T) {
	tab := Builtin()
	e, v, err := tab.Add("migrate", []Field{{"dom", U16}, {"from", U32}, {"to", U32}})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != NumBuiltin || v != 1 || tab.Version() != 1 {
		t.Fatalf("id %d version %d/%d, want %d and 1", e.ID, v, tab.Version(), NumBuiltin)
	}
	e2, v2, err := tab.AddDecl("balloon(u16 dom, s64 delta_kb)")
	if err != nil || e2.ID != NumBuiltin+1 || v2 != 2 {
		t.Fatalf("AddDecl: %v id %d version %d", err, e2.ID, v2)
	}
	if got, _ := tab.Lookup(e2.ID); got != e2 {
		t.Fatal("Lookup of the added event failed")
	}

	tests := []struct {
		name   string
		fields []Field
		want   error
		text   string
	}{
		{"printk", nil, ErrDuplicateEvent, "printk"},
		{"migrate", nil, ErrDuplicateEvent, "migrate"},
		{"bad-name", nil, ErrBadDecl, `"bad-name" is not an identifier`},
		{"9lives", nil, ErrBadDecl, "not an identifier"},
		{"", nil, ErrBadDecl, "empty event name"},
		{"struct", nil, ErrBadDecl, "reserved TSDL word"},
		{"_hidden", nil, ErrBadDecl, "starts with '_'"},
		{"ok", []Field{{"a", U8}, {"a", U16}}, ErrBadDecl, `duplicate field name "a"`},
		{"ok", []Field{{"integer", U8}}, ErrBadDecl, `field name "integer" is a reserved TSDL word`},
		{"ok", []Field{{"uint32", U8}}, ErrBadDecl, "reserved"},
		{"ok", []Field{{"x y", U8}}, ErrBadDecl, "not an identifier"},
		{"ok", []Field{{"x", Type(0)}}, ErrBadDecl, "invalid type"},
		{"ok", []Field{{"x", Type(99)}}, ErrBadDecl, "invalid type"},
		{strings.Repeat("n", MaxNameLen+1), nil, ErrBadDecl, "at most 128"},
		{"many", make([]Field, MaxFields+1), ErrBadDecl, "fields, at most"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20s", tt.name), func(t *testing.T) {
			_, v, err := tab.Add(tt.name, tt.fields)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
			if v != 2 || tab.Version() != 2 || len(tab.Events()) != int(NumBuiltin)+2 {
				t.Fatalf("a failed Add changed the table")
			}
		})
	}
}

func TestNewTable(t *testing.T) {
	a, _ := NewEvent(0, "a", nil)
	b, _ := NewEvent(1, "b", nil)
	b0, _ := NewEvent(0, "b", nil)
	a1, _ := NewEvent(1, "a", nil)
	if _, err := NewTable(a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTable(b0, b0); !errors.Is(err, ErrBadDecl) {
		t.Errorf("non-dense ids: %v", err)
	}
	if _, err := NewTable(a, a1); !errors.Is(err, ErrDuplicateEvent) {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := NewTable(&Event{ID: 0, Name: "bad name"}); !errors.Is(err, ErrBadDecl) {
		t.Errorf("invalid literal event: %v", err)
	}
	var zero Table
	if len(zero.Events()) != 0 || zero.Version() != 0 {
		t.Error("zero Table not empty")
	}
	if e, v, err := zero.Add("first", nil); err != nil || e.ID != 0 || v != 1 {
		t.Errorf("zero Table Add: %v %v %v", e, v, err)
	}
}

// TestTableConcurrent runs readers against writers; run with -race.
func TestTableConcurrent(t *testing.T) {
	tab := Builtin()
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				evs, v := tab.Snapshot()
				if uint64(len(evs)) != uint64(NumBuiltin)+v {
					t.Errorf("reader %d: %d events at version %d", r, len(evs), v)
					return
				}
				for i, e := range evs {
					if e.ID != uint32(i) {
						t.Errorf("reader %d: event %d has id %d", r, i, e.ID)
						return
					}
					if got, ok := tab.Lookup(e.ID); !ok || got != e {
						t.Errorf("reader %d: Lookup(%d) mismatch", r, e.ID)
						return
					}
				}
			}
		}()
	}
	var ww sync.WaitGroup
	for w := range writers {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := range perWriter {
				if _, _, err := tab.AddDecl(fmt.Sprintf("w%d_%d(u32 x)", w, i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	if tab.Version() != writers*perWriter || len(tab.Events()) != int(NumBuiltin)+writers*perWriter {
		t.Fatalf("version %d, %d events", tab.Version(), len(tab.Events()))
	}
}

func TestTypeProperties(t *testing.T) {
	tests := []struct {
		t      Type
		name   string
		bits   int
		align  int
		signed bool
	}{
		{U8, "u8", 8, 1, false}, {U16, "u16", 16, 2, false}, {U32, "u32", 32, 4, false}, {U64, "u64", 64, 8, false},
		{S8, "s8", 8, 1, true}, {S16, "s16", 16, 2, true}, {S32, "s32", 32, 4, true}, {S64, "s64", 64, 8, true},
		{String, "string", 0, 1, false}, {Bytes, "bytes", 0, 4, false},
	}
	for _, tt := range tests {
		if tt.t.String() != tt.name || tt.t.Bits() != tt.bits || tt.t.Align() != tt.align || tt.t.Signed() != tt.signed || !tt.t.Valid() {
			t.Errorf("%v: name %s bits %d align %d signed %v", tt.t, tt.t, tt.t.Bits(), tt.t.Align(), tt.t.Signed())
		}
		if got, ok := TypeByName(tt.name); !ok || got != tt.t {
			t.Errorf("TypeByName(%s) = %v", tt.name, got)
		}
	}
	if Type(0).Valid() || Type(11).Valid() || Type(11).String() != "Type(11)" {
		t.Error("invalid types")
	}
}
