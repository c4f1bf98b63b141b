// Package size parses and formats byte sizes such as "64KiB", with binary units only.
//
// All functions are safe for concurrent use.
package size

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Units.
const (
	KiB uint64 = 1 << 10
	MiB uint64 = 1 << 20
	GiB uint64 = 1 << 30
)

// Parse reads a size in bytes: decimal digits, optionally followed (with or without blanks) by
// a unit: B; K, KiB; M, MiB; G, GiB (k, m, g also). All multiples are binary (K = 1024).
// Decimal-looking units (KB, kB, MB, GB, …) are rejected as ambiguous, as are signs,
// fractions and other bases. Errors name the input and wrap [ErrSyntax], [ErrUnit],
// [ErrAmbiguousUnit] or [ErrRange].
func Parse(s string) (uint64, error) {
	n, err := parse(s)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return n, nil
}

func parse(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	digits, unit := t[:i], strings.TrimSpace(t[i:])
	if digits == "" {
		return 0, fmt.Errorf("%w: want decimal digits then an optional unit", ErrSyntax)
	}
	if strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ",") {
		return 0, fmt.Errorf("%w: fractions are not accepted", ErrSyntax)
	}
	mult, err := multiplier(unit)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: over %d bytes", ErrRange, uint64(1<<64-1))
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	hi, lo := bits.Mul64(n, mult)
	if hi != 0 {
		return 0, fmt.Errorf("%w: over %d bytes", ErrRange, uint64(1<<64-1))
	}
	return lo, nil
}

func multiplier(unit string) (uint64, error) {
	switch unit {
	case "", "B":
		return 1, nil
	case "K", "k", "KiB":
		return KiB, nil
	case "M", "m", "MiB":
		return MiB, nil
	case "G", "g", "GiB":
		return GiB, nil
	}
	switch strings.ToLower(unit) {
	case "kb", "mb", "gb", "tb", "pb":
		return 0, fmt.Errorf("%w %q: write %ciB (or %c) for a multiple of 1024",
			ErrAmbiguousUnit, unit, strings.ToUpper(unit)[0], strings.ToUpper(unit)[0])
	}
	return 0, fmt.Errorf("%w %q: want B, K, KiB, M, MiB, G or GiB", ErrUnit, unit)
}

// Format writes n with the largest binary unit that divides it exactly ("64KiB", "2MiB",
// "1GiB"), or as plain bytes ("4095", "0"). [Parse] reads it back to n.
func Format(n uint64) string {
	if n != 0 {
		for _, u := range []struct {
			size uint64
			name string
		}{{GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
			if n%u.size == 0 {
				return strconv.FormatUint(n/u.size, 10) + u.name
			}
		}
	}
	return strconv.FormatUint(n, 10)
}
