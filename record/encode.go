package record

import (
	"encoding/binary"
	"strings"
)

// Record layout (docs/ARCHITECTURE.md, "Event record layout"). A record
// starts on a [RecordAlign] boundary; offsets are from its first byte. The
// pCPU is not in the record: it is the packet context's cpu_id
// ([OffCPUID]), as in LTTng's traces, since each pCPU has its own stream.
const (
	RecordAlign = 8 // alignment of a record's first byte

	OffTimestamp = 0  // u64 event header: timestamp, mapped to the clock
	OffID        = 8  // u32 event header: event id
	HeaderSize   = 12 // end of the event header
)

// eventHeaderLayout is the event header (docs/ARCHITECTURE.md, "Event
// record layout"), in order. The payload follows from [HeaderSize].
var eventHeaderLayout = []layoutField{
	{scope: scopeEventHeader, name: "timestamp", off: OffTimestamp, bits: 64, clock: true},
	{scope: scopeEventHeader, name: "id", off: OffID, bits: 32},
}

// payloadStart returns the offset in a record of the first payload byte of
// an event with fields: HeaderSize rounded up to the alignment of the most
// aligned field, because CTF aligns the payload struct as a whole (12 for
// most events, 16 for an event with a 64-bit field). Each field then sits
// at its natural alignment.
func payloadStart(fields []Field) int {
	a := 1
	for _, f := range fields {
		a = max(a, f.Type.Align())
	}
	return AlignUp(HeaderSize, a)
}

// payloadOffset returns [payloadStart] of e's fields, precomputed by
// [NewEvent].
func (e *Event) payloadOffset() int {
	if e.laidOut {
		return e.payload
	}
	return payloadStart(e.Fields)
}

// Value is one field value. Integers are in U (signed ones as 64-bit two's
// complement: U = uint64(int64(v))); a String field's value is S and a Bytes
// field's is B. Use [Uint], [Int], [Str] and [Blob] to build values.
type Value struct {
	U uint64
	S string
	B []byte
}

// Uint returns the value of an unsigned integer field.
func Uint(v uint64) Value { return Value{U: v} }

// Int returns the value of a signed integer field.
func Int(v int64) Value { return Value{U: uint64(v)} }

// Str returns the value of a String field.
func Str(s string) Value { return Value{S: s} }

// Blob returns the value of a Bytes field.
func Blob(b []byte) Value { return Value{B: b} }

// Int returns U read as a signed integer.
func (v Value) Int() int64 { return int64(v.U) }

// AlignUp returns off rounded up to a multiple of align, a power of two.
func AlignUp(off, align int) int { return (off + align - 1) &^ (align - 1) }

// cstring returns s up to its first NUL: a string field ends at its first
// NUL, so that is all of s a reader can see.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Size returns the exact length of e's record holding vals, from its first
// byte (which must be 8-aligned) to the end of its last field, with no
// trailing padding. vals must hold one value per field, as for
// [Event.Encode]. It does not allocate and is safe for concurrent use.
func (e *Event) Size(vals []Value) int {
	if e.laidOut && e.fixed >= 0 {
		return e.fixed
	}
	if len(vals) < len(e.Fields) {
		panic("record: Event.Size: fewer values than fields")
	}
	off := e.payloadOffset()
	for i, f := range e.Fields {
		switch f.Type {
		case U8, S8:
			off++
		case U16, S16:
			off = AlignUp(off, 2) + 2
		case U32, S32:
			off = AlignUp(off, 4) + 4
		case U64, S64:
			off = AlignUp(off, 8) + 8
		case String:
			off += len(cstring(vals[i].S)) + 1
		case Bytes:
			off = AlignUp(off, 4) + 4 + len(vals[i].B)
		}
	}
	return off
}

// Encode writes e's record at the start of dst and returns its length
// ([Event.Size]). dst[0] must sit on an 8-byte boundary of the packet.
// Layout: ts at [OffTimestamp], e.ID at [OffID], then the payload from
// [HeaderSize] rounded up to the alignment of e's most aligned field, each
// field at its natural alignment, little-endian; alignment gaps are zeroed.
//
// Integers are written from the low bits of Value.U (use [Event.Check] to
// reject values that do not fit); a string is written up to its first NUL.
// Encode panics if len(vals) != len(e.Fields) or dst is shorter than the
// record. It never allocates, and any number of goroutines may encode with
// the same Event into different buffers.
func (e *Event) Encode(dst []byte, ts uint64, vals []Value) int {
	if len(vals) != len(e.Fields) {
		panic("record: Event.Encode: value count differs from field count")
	}
	_ = dst[HeaderSize-1]
	binary.LittleEndian.PutUint64(dst[OffTimestamp:], ts)
	binary.LittleEndian.PutUint32(dst[OffID:], e.ID)
	off := e.payloadOffset()
	if off != HeaderSize {
		// The payload is 8-aligned: zero the 4 bytes up to it (HeaderSize
		// is 4-aligned, so off is HeaderSize or HeaderSize+4).
		binary.LittleEndian.PutUint32(dst[HeaderSize:], 0)
	}
	for i, f := range e.Fields {
		v := &vals[i]
		switch f.Type {
		case U8, S8:
			dst[off] = byte(v.U)
			off++
		case U16, S16:
			off = pad(dst, off, 2)
			binary.LittleEndian.PutUint16(dst[off:], uint16(v.U))
			off += 2
		case U32, S32:
			off = pad(dst, off, 4)
			binary.LittleEndian.PutUint32(dst[off:], uint32(v.U))
			off += 4
		case U64, S64:
			off = pad(dst, off, 8)
			binary.LittleEndian.PutUint64(dst[off:], v.U)
			off += 8
		case String:
			s := cstring(v.S)
			if len(dst)-off <= len(s) {
				panic("record: Event.Encode: buffer too short")
			}
			off += copy(dst[off:], s)
			dst[off] = 0
			off++
		case Bytes:
			off = pad(dst, off, 4)
			binary.LittleEndian.PutUint32(dst[off:], uint32(len(v.B)))
			off += 4
			if len(dst)-off < len(v.B) {
				panic("record: Event.Encode: buffer too short")
			}
			off += copy(dst[off:], v.B)
		default:
			panic("record: Event.Encode: invalid field type")
		}
	}
	return off
}

// pad zeroes dst from off up to the next multiple of align and returns that
// multiple.
func pad(dst []byte, off, align int) int {
	for off&(align-1) != 0 {
		dst[off] = 0
		off++
	}
	return off
}

// u64U32Payload is the payload offset of a record whose first field is a
// u64: HeaderSize rounded up to 8.
const u64U32Payload = (HeaderSize + 7) &^ 7

// SizeU64U32 is the length of a record with one u64 and one u32 field,
// such as the built-in hypercall_entry.
const SizeU64U32 = u64U32Payload + 8 + 4

// EncodeU64U32 writes a record of event id whose fields are (u64 a, u32 b)
// (such as the built-in hypercall_entry(u64 op, u32 vcpu)) at the start of
// dst and returns [SizeU64U32]. It is the specialised fast path of
// [Event.Encode]: same bytes, no field loop. It panics if dst is too short.
func EncodeU64U32(dst []byte, ts uint64, id uint32, a uint64, b uint32) int {
	_ = dst[SizeU64U32-1]
	binary.LittleEndian.PutUint64(dst[OffTimestamp:], ts)
	binary.LittleEndian.PutUint32(dst[OffID:], id)
	binary.LittleEndian.PutUint32(dst[HeaderSize:], 0) // up to u64U32Payload
	binary.LittleEndian.PutUint64(dst[u64U32Payload:], a)
	binary.LittleEndian.PutUint32(dst[u64U32Payload+8:], b)
	return SizeU64U32
}
