package record

import (
	"fmt"
	"strings"
)

// Type is the type of an event field.
type Type uint8

// Field types. Integers are little-endian at their natural alignment
// (size = alignment). String is NUL-terminated UTF-8, byte aligned. Bytes is a
// CTF sequence: a u32 length (4-aligned) then that many bytes; its metadata
// names the length field "_NAME_length".
const (
	U8 Type = iota + 1
	U16
	U32
	U64
	S8
	S16
	S32
	S64
	String
	Bytes
)

var typeNames = [...]string{
	U8: "u8", U16: "u16", U32: "u32", U64: "u64",
	S8: "s8", S16: "s16", S32: "s32", S64: "s64",
	String: "string", Bytes: "bytes",
}

// String returns the type's name in declarations: "u8" … "s64", "string",
// "bytes".
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Valid reports whether t is one of the declared types.
func (t Type) Valid() bool { return t >= U8 && t <= Bytes }

// TypeByName returns the type called name ("u32", "string", …).
func TypeByName(name string) (Type, bool) {
	for t := U8; t <= Bytes; t++ {
		if typeNames[t] == name {
			return t, true
		}
	}
	return 0, false
}

// Signed reports whether t is a signed integer type.
func (t Type) Signed() bool { return t >= S8 && t <= S64 }

// Integer reports whether t is an integer type.
func (t Type) Integer() bool { return t >= U8 && t <= S64 }

// Bits returns the width of an integer type, 0 for String and Bytes.
func (t Type) Bits() int {
	switch t {
	case U8, S8:
		return 8
	case U16, S16:
		return 16
	case U32, S32:
		return 32
	case U64, S64:
		return 64
	}
	return 0
}

// Align returns the byte alignment of a field of type t (of the length word
// for Bytes).
func (t Type) Align() int {
	switch t {
	case U16, S16:
		return 2
	case U32, S32, Bytes:
		return 4
	case U64, S64:
		return 8
	}
	return 1
}

// Field is one field of an event's payload.
type Field struct {
	Name string
	Type Type
}

// Event describes one event type: its numeric id in the stream, its name and
// its payload fields in order.
//
// Build events with [NewEvent] or [Table.Add], which validate them and
// precompute their layout. An Event must not be modified once built; it is
// then safe for concurrent use by any number of goroutines.
type Event struct {
	ID     uint32
	Name   string
	Fields []Field

	// fixed is the encoded record size if every field has a fixed size,
	// else -1. Only meaningful when laidOut is set (by NewEvent).
	fixed   int
	payload int // first payload byte ([payloadStart]), set by NewEvent
	laidOut bool
}

// Maximum lengths accepted for names and field lists. They keep metadata
// and records of sane size; CTF itself has no such limits.
const (
	MaxNameLen = 128
	MaxFields  = 256
)

// NewEvent validates name and fields and returns the event with its layout
// precomputed. Names follow [CheckEventName] and [CheckFieldName]; field
// names are distinct, and none is NAME_length for a Bytes field NAME (the
// name readers give that field's length). Errors wrap [ErrBadDecl].
func NewEvent(id uint32, name string, fields []Field) (*Event, error) {
	e := &Event{ID: id, Name: name, Fields: append([]Field(nil), fields...)}
	if err := e.validate(); err != nil {
		return nil, err
	}
	e.payload = payloadStart(e.Fields)
	e.fixed = e.computeFixed()
	e.laidOut = true
	return e, nil
}

// validate checks the rules [NewEvent] documents.
func (e *Event) validate() error {
	name, fields := e.Name, e.Fields
	if err := checkName("event name", name); err != nil {
		return err
	}
	if len(fields) > MaxFields {
		return fmt.Errorf("%w: event %s: %d fields, at most %d allowed", ErrBadDecl, name, len(fields), MaxFields)
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if err := checkName("field name", f.Name); err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		if !f.Type.Valid() {
			return fmt.Errorf("%w: event %s: field %s: invalid type %d", ErrBadDecl, name, f.Name, uint8(f.Type))
		}
		if seen[f.Name] {
			return fmt.Errorf("%w: event %s: duplicate field name %q", ErrBadDecl, name, f.Name)
		}
		seen[f.Name] = true
	}
	// The metadata names a Bytes field x's length "_x_length", and
	// babeltrace2 strips the leading '_' of every field name: a field
	// x_length would then be declared twice and the whole metadata refused.
	for _, f := range fields {
		if f.Type == Bytes && seen[f.Name+lengthSuffix] {
			return fmt.Errorf("%w: event %s: field name %q is taken by the length of bytes field %s (readers show it as %s)",
				ErrBadDecl, name, f.Name+lengthSuffix, f.Name, f.Name+lengthSuffix)
		}
	}
	return nil
}

// lengthSuffix ends the generated name of a Bytes field's length
// ([bytesLengthName]).
const lengthSuffix = "_length"

// computeFixed returns the record size if all fields have a fixed size,
// else -1.
func (e *Event) computeFixed() int {
	off := payloadStart(e.Fields)
	for _, f := range e.Fields {
		if f.Type == String || f.Type == Bytes {
			return -1
		}
		a := f.Type.Align()
		off = (off+a-1)&^(a-1) + f.Type.Bits()/8
	}
	return off
}

// FixedSize returns the encoded size of every record of e if all its fields
// have fixed sizes, else -1.
func (e *Event) FixedSize() int {
	if e.laidOut {
		return e.fixed
	}
	return e.computeFixed()
}

// Decl returns the event's declaration in [ParseDecl] syntax, for example
// "printk(string msg)".
func (e *Event) Decl() string {
	var b strings.Builder
	b.WriteString(e.Name)
	b.WriteByte('(')
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Type.String())
		b.WriteByte(' ')
		b.WriteString(f.Name)
	}
	b.WriteByte(')')
	return b.String()
}

// FieldIndex returns the index of the field called name, or -1.
func (e *Event) FieldIndex(name string) int {
	for i, f := range e.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// tsdlReserved are the words a name must not be: the TSDL keywords (a field
// named like one cannot be parsed back) and the type aliases [Metadata]
// declares (babeltrace2's lexer turns a declared type name into a type token).
var tsdlReserved = map[string]bool{
	"align": true, "callsite": true, "const": true, "char": true, "clock": true,
	"double": true, "enum": true, "env": true, "event": true, "floating_point": true,
	"float": true, "integer": true, "int": true, "long": true, "short": true,
	"signed": true, "stream": true, "string": true, "struct": true, "trace": true,
	"typealias": true, "typedef": true, "unsigned": true, "variant": true, "void": true,
	"_Bool": true, "_Complex": true, "_Imaginary": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"int8": true, "int16": true, "int32": true, "int64": true,
}

// isIdent reports whether s is a C identifier.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckEventName reports why name cannot be an event name, or nil. The
// rule, shared with field names ([CheckFieldName]): a C identifier not
// starting with '_' (reserved for generated names such as a Bytes field's
// length), at most [MaxNameLen] bytes, not a TSDL keyword or a type name the
// metadata declares. The error is the broken rule alone ("event name \"9x\"
// is not an identifier"), for tools to print as it is; [NewEvent] wraps it
// in [ErrBadDecl].
func CheckEventName(name string) error { return nameRule("event name", name) }

// CheckFieldName is [CheckEventName] for a field name. A field name that
// passes can still be refused by [NewEvent] in a given event: twice, or
// named like the length of one of its Bytes fields (NAME_length).
func CheckFieldName(name string) error { return nameRule("field name", name) }

// nameRule is the name rule; what says which kind of name it is.
func nameRule(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty %s", what)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%s %.20q… is %d bytes, at most %d allowed", what, name, len(name), MaxNameLen)
	case !isIdent(name):
		return fmt.Errorf("%s %q is not an identifier", what, name)
	case name[0] == '_':
		return fmt.Errorf("%s %q starts with '_' (reserved for generated names)", what, name)
	case tsdlReserved[name]:
		return fmt.Errorf("%s %q is a reserved TSDL word", what, name)
	}
	return nil
}

// checkName is the name rule wrapped in [ErrBadDecl].
func checkName(what, name string) error {
	if err := nameRule(what, name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadDecl, err)
	}
	return nil
}
