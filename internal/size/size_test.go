package size

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"0", 0},
		{"4096", 4096},
		{"4096B", 4096},
		{"007", 7},
		{"64KiB", 64 << 10},
		{"64K", 64 << 10},
		{"64k", 64 << 10},
		{" 64 KiB ", 64 << 10},
		{"2MiB", 2 << 20},
		{"2M", 2 << 20},
		{"2m", 2 << 20},
		{"1GiB", 1 << 30},
		{"3G", 3 << 30},
		{"3g", 3 << 30},
		{"18446744073709551615", 1<<64 - 1},
		{"17179869183G", 17179869183 << 30},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"   ", ErrSyntax},
		{"KiB", ErrSyntax},
		{"-1", ErrSyntax},
		{"+1", ErrSyntax},
		{"1.5M", ErrSyntax},
		{"1,5M", ErrSyntax},
		{"64KB", ErrAmbiguousUnit},
		{"64kB", ErrAmbiguousUnit},
		{"64kb", ErrAmbiguousUnit},
		{"1MB", ErrAmbiguousUnit},
		{"1GB", ErrAmbiguousUnit},
		{"1TB", ErrAmbiguousUnit},
		{"1T", ErrUnit},
		{"1kib", ErrUnit},
		{"1 K iB", ErrUnit},
		{"0x10", ErrUnit},
		{"1_000", ErrUnit},
		{"12 bytes", ErrUnit},
		{"1e6", ErrUnit},
		{"18446744073709551616", ErrRange},
		{"99999999999999999999999999", ErrRange},
		{"17179869184G", ErrRange},
		{"18014398509481984K", ErrRange},
	} {
		_, err := Parse(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(tc.in)) {
			t.Errorf("Parse(%q): error %q does not name the input", tc.in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{4095, "4095"},
		{4096, "4KiB"},
		{64 << 10, "64KiB"},
		{1536 << 10, "1536KiB"},
		{2 << 20, "2MiB"},
		{1 << 30, "1GiB"},
		{1<<64 - 1, "18446744073709551615"},
		{1 << 63, "8589934592GiB"},
	} {
		if got := Format(tc.n); got != tc.want {
			t.Errorf("Format(%d) = %q, want %q", tc.n, got, tc.want)
		}
		if back, err := Parse(Format(tc.n)); err != nil || back != tc.n {
			t.Errorf("Parse(Format(%d)) = %d, %v", tc.n, back, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("64KiB")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not name the input", err)
			}
			for _, sentinel := range []error{ErrSyntax, ErrUnit, ErrAmbiguousUnit, ErrRange} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("error %v matches no sentinel", err)
		}
		f := Format(n)
		back, err := Parse(f)
		if err != nil || back != n {
			t.Fatalf("Parse(%q) = %d, but Parse(Format) = Parse(%q) = %d, %v", s, n, f, back, err)
		}
	})
}
