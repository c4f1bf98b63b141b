package record

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseDecl(t *testing.T) {
	tests := []struct {
		decl   string
		name   string
		fields []Field
	}{
		{"printk(string msg)", "printk", []Field{{"msg", String}}},
		{"heartbeat()", "heartbeat", nil},
		{"  spaced ( u8 a ,s64\tb,\n bytes  c )  ", "spaced", []Field{{"a", U8}, {"b", S64}, {"c", Bytes}}},
		{"all(u8 a, u16 b, u32 c, u64 d, s8 e, s16 f, s32 g, s64 h, string i, bytes j)", "all", []Field{
			{"a", U8}, {"b", U16}, {"c", U32}, {"d", U64}, {"e", S8}, {"f", S16}, {"g", S32}, {"h", S64}, {"i", String}, {"j", Bytes}}},
		{"CamelCase_9(u32 X_1)", "CamelCase_9", []Field{{"X_1", U32}}},
	}
	for _, tt := range tests {
		t.Run(tt.decl, func(t *testing.T) {
			name, fields, err := ParseDecl(tt.decl)
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.name || !reflect.DeepEqual(fields, tt.fields) {
				t.Fatalf("got %s %v, want %s %v", name, fields, tt.name, tt.fields)
			}
			e, err := NewEvent(0, name, fields)
			if err != nil {
				t.Fatal(err)
			}
			// Decl prints what ParseDecl reads.
			n2, f2, err := ParseDecl(e.Decl())
			if err != nil || n2 != name || !reflect.DeepEqual(f2, fields) {
				t.Fatalf("Decl %q does not parse back: %v", e.Decl(), err)
			}
		})
	}
}

func TestParseDeclErrors(t *testing.T) {
	tests := []struct {
		decl string
		want string // in the error text
	}{
		{"", "column 1: expected an event name"},
		{"   ", "column 4: expected an event name"},
		{"printk", "column 7: expected '(' after the event name, found end of input"},
		{"printk string msg)", "column 8: expected '(' after the event name"},
		{"printk(string msg", "column 18: expected ',' or ')' after field msg, found end of input"},
		{"printk(string msg,)", "column 19: expected a field type, found \")\""},
		{"printk(str msg)", `column 8: unknown type "str"`},
		{"printk(int32 msg)", `unknown type "int32" (want u8, u16, u32, u64, s8, s16, s32, s64, string or bytes)`},
		{"printk(string)", "column 14: expected a field name after type string, found \")\""},
		{"printk(string 1msg)", `column 15: field name "1msg" is not an identifier`},
		{"printk(string m-sg)", `field name "m-sg" is not an identifier`},
		{"print-k(string msg)", `column 1: event name "print-k" is not an identifier`},
		{"événement(u8 a)", "is not an identifier"},
		{"e(u8 a, u16 a)", `column 13: duplicate field name "a"`},
		{"e(u8 a) junk", `column 9: unexpected "junk" after ')'`},
		{"e(u8 a))", `unexpected ")" after ')'`},
		{"e(u8 a b)", "column 8: expected ',' or ')' after field a, found \"b\""},
		{"event(u8 a)", `event name "event" is a reserved TSDL word`},
		{"e(u8 struct)", `field name "struct" is a reserved TSDL word`},
		{"e(u8 _x)", `field name "_x" starts with '_'`},
		{"e(u8 a,, u8 b)", "expected a field type"},
		{"e((u8 a)", "expected a field type"},
	}
	for _, tt := range tests {
		t.Run(tt.decl, func(t *testing.T) {
			name, fields, err := ParseDecl(tt.decl)
			if !errors.Is(err, ErrBadDecl) {
				t.Fatalf("err = %v, want ErrBadDecl", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
			if name != "" || fields != nil {
				t.Fatalf("results on error: %q %v", name, fields)
			}
		})
	}
}
