package record

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		t    Type
		s    string
		want Value
	}{
		{U8, "255", Uint(255)},
		{U8, "0xff", Uint(255)},
		{U16, "0b101", Uint(5)},
		{U32, "4294967295", Uint(1<<32 - 1)},
		{U64, "18446744073709551615", Uint(^uint64(0))},
		{U64, "1_000_000", Uint(1000000)},
		{S8, "-128", Int(-128)},
		{S8, "127", Int(127)},
		{S16, "-0x8000", Int(-32768)},
		{S32, "-2147483648", Int(-1 << 31)},
		{S64, "-9223372036854775808", Int(-1 << 63)},
		{S64, "+5", Int(5)},
		{String, "", Str("")},
		{String, "héllo ✓", Str("héllo ✓")},
		{Bytes, "", Blob([]byte{})},
		{Bytes, "deadbeef", Blob([]byte{0xde, 0xad, 0xbe, 0xef})},
		{Bytes, "0xDE:AD", Blob([]byte{0xde, 0xad})},
		{Bytes, "01 02 03", Blob([]byte{1, 2, 3})},
	}
	for _, tt := range tests {
		t.Run(tt.t.String()+"/"+tt.s, func(t *testing.T) {
			v, err := ParseValue(tt.t, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if v.U != tt.want.U || v.S != tt.want.S || !bytes.Equal(v.B, tt.want.B) {
				t.Fatalf("got %+v, want %+v", v, tt.want)
			}
			if err := v.Check(tt.t); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestParseValueErrors(t *testing.T) {
	tests := []struct {
		t    Type
		s    string
		want string
	}{
		{U8, "256", `u8 "256": out of range [0, 255]`},
		{U8, "-1", `u8 "-1": not an integer`},
		{U16, "65536", "out of range [0, 65535]"},
		{U32, "4294967296", "out of range [0, 4294967295]"},
		{U64, "18446744073709551616", "out of range [0, 18446744073709551615]"},
		{S8, "128", `s8 "128": out of range [-128, 127]`},
		{S8, "-129", "out of range [-128, 127]"},
		{S16, "40000", "out of range [-32768, 32767]"},
		{S32, "-2147483649", "out of range [-2147483648, 2147483647]"},
		{S64, "9223372036854775808", "out of range [-9223372036854775808, 9223372036854775807]"},
		{U32, "", "not an integer"},
		{U32, "12abc", "not an integer"},
		{U32, " 1", "not an integer"},
		{String, "a\x00b", "contains NUL"},
		{String, "\xff\xfe", "not valid UTF-8"},
		{Bytes, "abc", "want hexadecimal digits"},
		{Bytes, "zz", "want hexadecimal digits"},
		{Type(0), "1", "invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.t.String()+"/"+tt.s, func(t *testing.T) {
			_, err := ParseValue(tt.t, tt.s)
			if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadValue containing %q", err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		t  Type
		v  Value
		ok bool
	}{
		{U8, Uint(255), true}, {U8, Uint(256), false},
		{U16, Uint(1 << 16), false}, {U32, Uint(1<<32 - 1), true}, {U64, Uint(^uint64(0)), true},
		{S8, Int(-128), true}, {S8, Int(-129), false}, {S8, Uint(255), false}, // 255 is not a sign-extended s8
		{S16, Int(32767), true}, {S32, Int(-1 << 31), true}, {S32, Int(1 << 31), false}, {S64, Int(-1 << 63), true},
		{String, Str("ok"), true}, {String, Str("a\x00"), false},
		{Bytes, Blob(nil), true},
	}
	for _, tt := range tests {
		if err := tt.v.Check(tt.t); (err == nil) != tt.ok {
			t.Errorf("%v.Check(%v) = %v, want ok=%v", tt.v, tt.t, err, tt.ok)
		}
	}
	e, _ := Builtin().ByName("irq_entry")
	if err := e.Check([]Value{Uint(1), Uint(300)}); !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), "field vector") {
		t.Errorf("Event.Check: %v", err)
	}
	if err := e.Check([]Value{Uint(1)}); !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), "2 fields, got 1 values") {
		t.Errorf("Event.Check count: %v", err)
	}
	if err := e.Check([]Value{Uint(1), Uint(2)}); err != nil {
		t.Errorf("Event.Check: %v", err)
	}
}

func TestValueFormat(t *testing.T) {
	for _, c := range []struct {
		t    Type
		v    Value
		want string
	}{
		{U64, Uint(^uint64(0)), "18446744073709551615"},
		{S64, Int(-5), "-5"},
		{String, Str("a\"b"), `"a\"b"`},
		{Bytes, Blob([]byte{0xde, 0xad}), "dead"},
	} {
		if got := c.v.Format(c.t); got != c.want {
			t.Errorf("Format(%v) = %s, want %s", c.t, got, c.want)
		}
		if c.t == Bytes || c.t.Integer() {
			v, err := ParseValue(c.t, c.want)
			if err != nil || v.U != c.v.U || !bytes.Equal(v.B, c.v.B) {
				t.Errorf("Format(%v) does not parse back: %v", c.t, err)
			}
		}
	}
}
