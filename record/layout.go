package record

import (
	"fmt"
	"strings"
)

// The fixed layouts (the packet header, the packet context, the event
// header) are declared once, in [packetLayout] and [eventHeaderLayout]:
// the writer's offsets (OffMagic … OffCPUID, OffTimestamp, OffID) are the
// ones the tables name, [Metadata] renders the TSDL structs from them, and
// the metadata parser checks a trace's declarations against them, offsets
// included. TestLayoutTables checks that each table is laid out as CTF
// lays it out and ends where PacketHeaderSize and HeaderSize say.

// Scopes of the fixed layouts, as TSDL names them.
const (
	scopePacketHeader  = "packet.header"  // in the trace block
	scopePacketContext = "packet.context" // in the stream block
	scopeEventHeader   = "event.header"   // in the stream block
)

// layoutField is one field of a fixed layout: an unsigned little-endian
// integer at its natural alignment, or a fixed array of them.
type layoutField struct {
	scope string // scopePacketHeader, scopePacketContext or scopeEventHeader
	name  string // TSDL field name
	off   int    // byte offset: in the packet, or in the record for the event header
	bits  int    // integer width (of each element for an array): 8, 16, 32 or 64
	array int    // array length, 0 for a scalar
	clock bool   // mapped to the trace's clock
}

// size returns the field's size in bytes.
func (f layoutField) size() int { return f.bits / 8 * max(f.array, 1) }

// layoutScope returns the fields of layout in scope, in order.
func layoutScope(layout []layoutField, scope string) []layoutField {
	var fs []layoutField
	for _, f := range layout {
		if f.scope == scope {
			fs = append(fs, f)
		}
	}
	return fs
}

// layoutNames returns the names of fs, comma-separated.
func layoutNames(fs []layoutField) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// layoutEnd checks that layout lays its fields out as CTF does: the first
// at byte 0, each scope's struct starting at its alignment (that of its
// most aligned field), each field at the end of the previous one rounded
// up to its natural alignment. It returns the end of the last field, or
// the first disagreement.
func layoutEnd(layout []layoutField) (int, error) {
	off := 0
	for i, f := range layout {
		if i == 0 || f.scope != layout[i-1].scope {
			al := 1
			for _, g := range layoutScope(layout, f.scope) {
				al = max(al, g.bits/8)
			}
			off = AlignUp(off, al)
		}
		off = AlignUp(off, f.bits/8)
		if f.off != off {
			return 0, fmt.Errorf("%s.%s is declared at byte %d, CTF puts it at %d", f.scope, f.name, f.off, off)
		}
		off += f.size()
	}
	return off, nil
}

// tsdlLayoutStruct returns the TSDL struct declaring fs, one field a line
// indented by tabs+1 tabs; clockInt is the type of the clock-mapped
// fields.
func tsdlLayoutStruct(fs []layoutField, clockInt string, tabs int) string {
	ind := strings.Repeat("\t", tabs)
	var b strings.Builder
	b.WriteString("struct {\n")
	for _, f := range fs {
		b.WriteString(ind + "\t")
		switch {
		case f.clock:
			b.WriteString(clockInt + " " + f.name)
		case f.array > 0:
			fmt.Fprintf(&b, "%s %s[%d]", tsdlTypeName[intType(f.bits, false)], f.name, f.array)
		default:
			b.WriteString(tsdlTypeName[intType(f.bits, false)] + " " + f.name)
		}
		b.WriteString(";\n")
	}
	b.WriteString(ind + "}")
	return b.String()
}
