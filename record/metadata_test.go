package record

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMetadataRoundTrip(t *testing.T) {
	tab := testTable(t)
	infos := map[string]TraceInfo{
		"full":     testInfo(),
		"defaults": {UUID: testUUID},
		"odd strings": {
			UUID:             testUUID,
			Hostname:         "h\"o\\s\tt\n\x01é",
			ClockDescription: `a "quoted" \ clock`,
			Env:              map[string]string{"z": "last", "a": "", "mid": "\x7f\x1f7"},
		},
		"tsc clock": {
			UUID: testUUID, ClockName: "tsc", ClockFreq: 2_400_000_000, ClockPrecision: 30,
			ClockOffsetSec: -3, ClockOffset: 2_399_999_999,
			TracerVersion: TracerVersion{Major: -1, Minor: 1 << 40, Patchlevel: 7},
		},
	}
	for name, info := range infos {
		t.Run(name, func(t *testing.T) {
			md, err := Metadata(info, tab.Events())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(md, []byte("/* CTF 1.8 */\n")) {
				t.Fatalf("metadata does not start with the CTF 1.8 comment")
			}
			gotInfo, events, err := ParseMetadata(md)
			if err != nil {
				t.Fatalf("%v\n%s", err, md)
			}
			want := info.WithDefaults()
			if len(want.Env) == 0 {
				want.Env = nil
			}
			if !reflect.DeepEqual(gotInfo, want) {
				t.Fatalf("info\n got %+v\nwant %+v", gotInfo, want)
			}
			if len(events) != len(tab.Events()) {
				t.Fatalf("%d events, want %d", len(events), len(tab.Events()))
			}
			for i, e := range events {
				w := tab.Events()[i]
				if e.ID != w.ID || e.Name != w.Name || !reflect.DeepEqual(e.Fields, w.Fields) || e.FixedSize() != w.FixedSize() {
					t.Errorf("event %d: got %d %s, want %d %s", i, e.ID, e.Decl(), w.ID, w.Decl())
				}
			}
		})
	}
}

func TestMetadataText(t *testing.T) {
	md, err := Metadata(testInfo(), testTable(t).Events())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"typealias integer { size = 16; align = 16; signed = true; } := int16;",
		"uuid = \"deadbeef-0102-0304-0506-0708090a0b0c\";",
		"byte_order = le;",
		"packet.header := struct {\n\t\tuint32 magic;\n\t\tuint8 uuid[16];\n\t\tuint32 stream_id;\n\t};",
		"domain = \"xen\";", "tracer_name = \"lttng-xen\";", "tracer_minor = 1;", "tracer_patchlevel = 2;",
		"hostname = \"golden-host\";", "build = \"test\";",
		"name = monotonic;", "freq = 1000000000;", "precision = 1;", "offset_s = 1700000000;", "offset = 123456789;", "absolute = FALSE;",
		"integer { size = 64; align = 64; signed = false; map = clock.monotonic.value; } timestamp;\n\t\tuint32 id;",
		"uint64 packet_seq_num;\n\t\tuint64 events_discarded;\n\t\tuint32 cpu_id;\n\t};",
		"name = \"printk\";\n\tid = 13;\n\tstream_id = 0;\n\tfields := struct {\n\t\tstring { encoding = UTF8; } msg;\n\t};",
		"uint32 _data_length;\n\t\tuint8 data[_data_length];\n\t\tint16 small;",
		"name = \"heartbeat\";\n\tid = 15;\n\tstream_id = 0;\n\tfields := struct {\n\t};",
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("metadata lacks %q", want)
		}
	}
	// cpu_id is in the packet context only, as in LTTng's traces.
	if bytes.Contains(md, []byte("event.context")) {
		t.Errorf("metadata declares an event.context:\n%s", md)
	}
}

func TestMetadataErrors(t *testing.T) {
	ok, _ := NewEvent(0, "ok", nil)
	ok2, _ := NewEvent(0, "ok2", nil)
	tests := []struct {
		name   string
		info   TraceInfo
		events []*Event
		want   string
	}{
		{"env key", TraceInfo{Env: map[string]string{"bad key": ""}}, nil, `env key "bad key" is not an identifier`},
		{"env keyword", TraceInfo{Env: map[string]string{"struct": ""}}, nil, "not an identifier"},
		{"env reserved", TraceInfo{Env: map[string]string{"hostname": "x"}}, nil, "written by the tracer itself"},
		{"env NUL", TraceInfo{Env: map[string]string{"k": "a\x00"}}, nil, "contains NUL"},
		{"hostname NUL", TraceInfo{Hostname: "a\x00"}, nil, "contains NUL"},
		{"clock name", TraceInfo{ClockName: "mono tonic"}, nil, "clock name"},
		{"clock offset", TraceInfo{ClockOffset: 1e9}, nil, "not below the frequency"},
		{"dup id", TraceInfo{}, []*Event{ok, ok2}, "duplicate event id 0"},
		{"dup name", TraceInfo{}, []*Event{ok, {ID: 1, Name: "ok"}}, "duplicate event name: ok"},
		{"bad event", TraceInfo{}, []*Event{{Name: "no way"}}, "not an identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Metadata(tt.info, tt.events)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestQuoteTSDL(t *testing.T) {
	for in, want := range map[string]string{
		"":          `""`,
		"plain":     `"plain"`,
		`a"b\c`:     `"a\"b\\c"`,
		"tab\there": `"tab\011here"`,
		"\x017":     `"\0017"`, // three octal digits, so the 7 is not absorbed
		"é✓":        `"é✓"`,
	} {
		if got := quoteTSDL(in); got != want {
			t.Errorf("quoteTSDL(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestParseMetadataTolerant checks comments and unusual whitespace.
func TestParseMetadataTolerant(t *testing.T) {
	md, err := Metadata(testInfo(), Builtin().Events())
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	s = strings.ReplaceAll(s, "\n\t", "\r\n  // a line comment\n /* block\n comment */ ")
	s = strings.ReplaceAll(s, " = ", "=")
	s = strings.ReplaceAll(s, "signed=false", "signed=0")
	s = strings.ReplaceAll(s, "name=monotonic", `name="monotonic"`)
	s = strings.ReplaceAll(s, "precision=1;", "precision=0x1ULL;")
	s += "// trailing comment without newline"
	info, events, err := ParseMetadata([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	if info.UUID != testUUID || info.ClockName != "monotonic" || info.ClockPrecision != 1 || len(events) != int(NumBuiltin) {
		t.Fatalf("info %+v, %d events", info, len(events))
	}
}

func TestParseMetadataErrors(t *testing.T) {
	good, err := Metadata(testInfo(), testTable(t).Events())
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	repl := func(old, new string) string {
		if !strings.Contains(g, old) {
			t.Fatalf("test bug: metadata lacks %q", old)
		}
		return strings.Replace(g, old, new, 1)
	}
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", "no trace block"},
		{"garbage", "\x00\x01\x02", `unexpected character '\x00'`},
		{"packetized", "\x57\x1d\xd1\x75rest", "packetized metadata is not supported"},
		{"ctf version", "/* CTF 2.0 */\n" + g[len("/* CTF 1.8 */\n"):], "not CTF 1.8"},
		{"unterminated comment", g + "/* oops", "unterminated /* comment"},
		{"unterminated string", g + `event { name = "oops`, "unterminated string literal"},
		{"bad escape", repl(`"golden-host"`, `"golden\q"`), `unknown escape \q`},
		{"bad integer", repl("freq = 1000000000;", "freq = 10x;"), `bad integer literal "10x"`},
		{"huge integer", repl("freq = 1000000000;", "freq = 99999999999999999999999;"), "bad integer literal"},
		{"unknown top", g + "\ncallsite { };", `unsupported declaration "callsite"`},
		{"typedef", "typedef integer { size = 8; } u8;\n" + g, `unsupported declaration "typedef"`},
		{"missing semicolon", repl("major = 1;", "major = 1"), `expected ";", found "minor"`},
		{"major", repl("major = 1;", "major = 2;"), "trace major must be 1 (CTF 1.8)"},
		{"minor", repl("minor = 8;", "minor = 7;"), "trace minor must be 8"},
		{"uuid", repl(`uuid = "deadbeef-0102`, `uuid = "zzadbeef-0102`), "trace uuid"},
		{"byte order", repl("byte_order = le;", "byte_order = be;"), "trace byte_order must be le"},
		{"no uuid", repl(`uuid = "deadbeef-0102-0304-0506-0708090a0b0c";`, ""), "trace block without uuid"},
		{"trace attr", repl("major = 1;", "major = 1; color = 3;"), "unknown trace attribute color"},
		{"set twice", repl("major = 1;", "major = 1; major = 1;"), "major set twice"},
		{"header field", repl("uint32 stream_id;", "uint16 stream_id;"), "packet.header.stream_id must be an unsigned 32-bit integer"},
		{"header order", repl("uint32 magic;\n\t\tuint8 uuid[16];", "uint8 uuid[16];\n\t\tuint32 magic;"), "packet.header field 0 is uuid, this layout needs magic"},
		{"header count", repl("uint32 stream_id;\n", "uint32 stream_id;\n\t\tuint64 extra;\n"), "packet.header has 4 fields, this layout needs 3"},
		{"uuid array", repl("uint8 uuid[16];", "uint8 uuid[8];"), "packet.header.uuid has the wrong shape"},
		{"second trace", g + "\ntrace { major = 1; };", "second trace block"},
		{"domain", repl(`domain = "xen";`, `domain = "kernel";`), `env domain is "kernel", not "xen"`},
		{"tracer", repl(`tracer_name = "lttng-xen";`, `tracer_name = "lttng-modules";`), "not a lttng-xen trace"},
		{"no domain", repl(`domain = "xen";`, ""), "env without domain"},
		{"tracer_major", repl("tracer_major = 0;", `tracer_major = "x";`), "env tracer_major must be an integer"},
		{"clock freq", repl("freq = 1000000000;", "freq = 0;"), "clock freq must not be 0"},
		{"clock offset", repl("offset = 123456789;", "offset = 1000000000;"), "clock offset 1000000000 is not below freq"},
		{"absolute", repl("absolute = FALSE;", "absolute = TRUE;"), "absolute clocks are not supported"},
		{"clock attr", repl("absolute = FALSE;", "absolute = maybe;"), "clock absolute must be TRUE or FALSE"},
		{"no clock", strings.Replace(repl("clock {", "clockx {"), "clockx", "clock_", 1), `unsupported declaration "clock_"`},
		{"clock map", repl("map = clock.monotonic.value; } timestamp;", "map = clock.other.value; } timestamp;"), "event.header.timestamp is mapped to clock other, which is not declared"},
		{"unmapped", repl("map = clock.monotonic.value; } timestamp;", "} timestamp;"), "event.header.timestamp must be mapped to the clock"},
		{"header order ts", repl("timestamp;\n\t\tuint32 id;", "timestamp_x;\n\t\tuint32 id;"), "event.header field 0 is timestamp_x, this layout needs timestamp"},
		{"event.header align", repl("timestamp;\n\t\tuint32 id;\n\t};", "timestamp;\n\t\tuint32 id;\n\t} align(128);"), "event.header is aligned on 128 bits, this layout needs 64"},
		{"cpu_id", repl("uint32 cpu_id;", "uint64 cpu_id;"), "packet.context.cpu_id must be an unsigned 32-bit integer"},
		{"no cpu_id", repl("\t\tuint32 cpu_id;\n", ""), "packet.context has 6 fields, this layout needs 7"},
		{"per-record cpu_id", repl("\tpacket.context := struct {", "\tevent.context := struct {\n\t\tuint32 cpu_id;\n\t};\n\tpacket.context := struct {"), "per-record cpu_id layout"},
		{"stream id", repl("stream {\n\tid = 0;", "stream {\n\tid = 1;"), "stream id must be 0"},
		{"event stream id", repl("id = 13;\n\tstream_id = 0;", "id = 13;\n\tstream_id = 2;"), "event stream_id must be 0"},
		{"dup event id", repl("id = 13;", "id = 12;"), "duplicate event id 12"},
		{"dup event name", repl(`name = "printk";`, `name = "cpu_offline";`), `duplicate event name "cpu_offline"`},
		{"event name", repl(`name = "printk";`, `name = "print k";`), `event name "print k" is not an identifier`},
		{"event without id", repl("id = 13;\n", ""), "event without name or id"},
		{"event id range", repl("id = 13;", "id = 4294967296;"), "event id must be an integer from 0 to 4294967295"},
		{"unknown type", repl("uint16 prev_dom;", "uint24 prev_dom;"), `unknown or unsupported type "uint24"`},
		{"float", repl("uint16 prev_dom;", "floating_point { exp_dig = 8; mant_dig = 24; } prev_dom;"), `unknown or unsupported type "floating_point"`},
		{"odd int", repl("uint16 prev_dom;", "integer { size = 24; align = 8; } prev_dom;"), "integers must be aligned on their size"},
		{"int24", repl("uint16 prev_dom;", "integer { size = 24; align = 24; } prev_dom;"), "24-bit integers are not supported"},
		{"big endian field", repl("uint16 prev_dom;", "integer { size = 16; align = 16; byte_order = be; } prev_dom;"), "unsupported integer byte_order"},
		{"int attr", repl("uint16 prev_dom;", "integer { size = 16; colour = 1; } prev_dom;"), "unknown integer attribute colour"},
		{"int size", repl("uint16 prev_dom;", "integer { size = 65; } prev_dom;"), "integer size must be 1 to 64"},
		{"int no size", repl("uint16 prev_dom;", "integer { align = 8; } prev_dom;"), "integer without size"},
		{"array field", repl("uint16 prev_dom;", "uint16 prev_dom[2];"), "arrays and sequences other than bytes"},
		{"seq elem", repl("uint8 data[_data_length];", "uint16 data[_data_length];"), "elements must be unsigned 8-bit integers"},
		{"seq len type", repl("uint32 _data_length;", "uint16 _data_length;"), "length must be an unsigned 32-bit integer"},
		{"lone length", repl("uint8 data[_data_length];\n", ""), `field name "_data_length" starts with '_'`},
		{"nested struct", repl("uint16 prev_dom;", "struct { uint8 a; } prev_dom;"), "nested structs are not supported"},
		{"dup field", repl("uint16 prev_vcpu;", "uint16 prev_dom;"), "duplicate field prev_dom"},
		{"string enc", repl("string { encoding = UTF8; } msg;", "string { encoding = EBCDIC; } msg;"), "unsupported string encoding"},
		{"alias twice", "typealias integer { size = 8; align = 8; signed = false; } := uint8;\n" + g, "type alias uint8 declared twice"},
		{"deep nesting", "typealias " + strings.Repeat("struct { ", 100), "types nested more than 32 deep"},
		{"stray token", g + "\n}", `expected a declaration, found "}"`},
		{"no stream", g[:strings.Index(g, "stream {")], "no stream block"},
		{"fields not struct", repl("fields := struct {\n\t\tstring { encoding = UTF8; } msg;\n\t};", "fields := uint8;"), "event fields must be a struct"},
		{"value expected", repl("freq = 1000000000;", "freq = ;"), `expected a value for freq, found ";"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseMetadata([]byte(tt.text))
			var de *DecodeError
			if !errors.Is(err, ErrBadMetadata) || !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError wrapping ErrBadMetadata", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q\nwant it to contain %q", err, tt.want)
			}
			if de.Offset < 0 || de.Offset > int64(len(tt.text)) {
				t.Fatalf("offset %d outside the text", de.Offset)
			}
		})
	}
}

func TestParseMetadataErrorPosition(t *testing.T) {
	text := "/* CTF 1.8 */\ntrace {\n\tmajor = 2;\n};\n"
	_, _, err := ParseMetadata([]byte(text))
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatal(err)
	}
	if want := int64(strings.Index(text, "major")); de.Offset != want || !strings.Contains(err.Error(), "line 3 col 2:") {
		t.Fatalf("err = %v (offset %d), want offset %d line 3 col 2", err, de.Offset, want)
	}
}
