package record

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBytesLen is the largest Bytes value (its length is a u32).
const MaxBytesLen = math.MaxUint32

// ParseValue parses s as a value of type t, for tools that take field values
// on the command line:
//
//   - integers: decimal, or 0x/0o/0b-prefixed, optional sign for signed
//     types, '_' digit separators allowed; range-checked against t;
//   - string: s itself, which must be valid UTF-8 without NUL;
//   - bytes: hexadecimal digits, two per byte, optionally prefixed by 0x
//     and separated by ':' or spaces ("de:ad:be:ef"); "" is empty.
//
// Errors wrap [ErrBadValue].
func ParseValue(t Type, s string) (Value, error) {
	switch {
	case t.Signed():
		v, err := strconv.ParseInt(s, 0, t.Bits())
		if err != nil {
			return Value{}, valueError(t, s, err)
		}
		return Int(v), nil
	case t.Integer():
		v, err := strconv.ParseUint(s, 0, t.Bits())
		if err != nil {
			return Value{}, valueError(t, s, err)
		}
		return Uint(v), nil
	case t == String:
		v := Str(s)
		return v, v.Check(String)
	case t == Bytes:
		h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		h = strings.NewReplacer(":", "", " ", "").Replace(h)
		b, err := hex.DecodeString(h)
		if err != nil {
			return Value{}, fmt.Errorf("%w: bytes %q: want hexadecimal digits, two per byte", ErrBadValue, s)
		}
		return Blob(b), nil
	}
	return Value{}, fmt.Errorf("%w: invalid type %v", ErrBadValue, t)
}

func valueError(t Type, s string, err error) error {
	reason := "not an integer"
	if errors.Is(err, strconv.ErrRange) {
		var lo, hi string
		if t.Signed() {
			lo = strconv.FormatInt(-1<<(t.Bits()-1), 10)
			hi = strconv.FormatInt(1<<(t.Bits()-1)-1, 10)
		} else {
			lo, hi = "0", strconv.FormatUint(math.MaxUint64>>(64-t.Bits()), 10)
		}
		reason = fmt.Sprintf("out of range [%s, %s]", lo, hi)
	}
	return fmt.Errorf("%w: %s %q: %s", ErrBadValue, t, s, reason)
}

// Check reports whether v is a valid value of type t: an integer that fits
// (for signed types, U must be the sign extension of a value in range), a
// valid UTF-8 string without NUL, a byte string of at most [MaxBytesLen]
// bytes. Errors wrap [ErrBadValue].
func (v Value) Check(t Type) error {
	switch {
	case t.Signed():
		bits := t.Bits()
		if x := v.Int(); bits < 64 && (x < -1<<(bits-1) || x > 1<<(bits-1)-1) {
			return fmt.Errorf("%w: %d does not fit %s", ErrBadValue, x, t)
		}
	case t.Integer():
		if bits := t.Bits(); bits < 64 && v.U>>bits != 0 {
			return fmt.Errorf("%w: %d does not fit %s", ErrBadValue, v.U, t)
		}
	case t == String:
		if strings.IndexByte(v.S, 0) >= 0 {
			return fmt.Errorf("%w: string contains NUL", ErrBadValue)
		}
		if !utf8.ValidString(v.S) {
			return fmt.Errorf("%w: string is not valid UTF-8", ErrBadValue)
		}
	case t == Bytes:
		if uint64(len(v.B)) > MaxBytesLen {
			return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadValue, len(v.B), uint64(MaxBytesLen))
		}
	default:
		return fmt.Errorf("%w: invalid type %v", ErrBadValue, t)
	}
	return nil
}

// Check reports whether vals are valid values for e's fields: one per field,
// each passing [Value.Check]. Errors wrap [ErrBadValue] and name the field.
func (e *Event) Check(vals []Value) error {
	if len(vals) != len(e.Fields) {
		return fmt.Errorf("%w: event %s has %d fields, got %d values", ErrBadValue, e.Name, len(e.Fields), len(vals))
	}
	for i, f := range e.Fields {
		if err := vals[i].Check(f.Type); err != nil {
			return fmt.Errorf("event %s: field %s: %w", e.Name, f.Name, err)
		}
	}
	return nil
}

// Format returns v as text for type t: decimal integers, a Go-quoted string,
// bytes as lower-case hex (the syntax [ParseValue] reads, quoting aside).
func (v Value) Format(t Type) string {
	switch {
	case t.Signed():
		return strconv.FormatInt(v.Int(), 10)
	case t.Integer():
		return strconv.FormatUint(v.U, 10)
	case t == String:
		return strconv.Quote(v.S)
	case t == Bytes:
		return hex.EncodeToString(v.B)
	}
	return "?"
}
