package record

// The semantic checks: a document (tsdlDoc) into the trace information and
// events, checked against the layout this package writes and decodes. The
// last stage of ParseMetadata (parse.go).

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

func (p *tsdlParser) traceBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	var major, minor, uuid, order, header bool
	for _, a := range d.trace {
		switch a.key {
		case "major", "minor":
			want := uint64(1)
			if a.key == "minor" {
				want = 8
			}
			if a.val.kind != tokInt || a.neg || a.val.num != want {
				return p.errorf(a.pos, "trace %s must be %d (CTF 1.8)", a.key, want)
			}
			major = major || a.key == "major"
			minor = minor || a.key == "minor"
		case "uuid":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "trace uuid must be a string")
			}
			id, err := ParseUUID(a.val.text)
			if err != nil {
				return p.errorf(a.val.pos, "trace uuid: %v", err)
			}
			info.UUID, uuid = id, true
		case "byte_order":
			if a.path != "le" {
				return p.errorf(a.pos, "trace byte_order must be le")
			}
			order = true
		case scopePacketHeader:
			if err := p.checkScope(a.key, a, layoutScope(packetLayout, scopePacketHeader), 0); err != nil {
				return err
			}
			header = true
		default:
			return p.errorf(a.pos, "unknown trace attribute %s", a.key)
		}
	}
	switch {
	case !major || !minor:
		return p.errorf(d.tracePos, "trace block without major and minor")
	case !uuid:
		return p.errorf(d.tracePos, "trace block without uuid")
	case !order:
		return p.errorf(d.tracePos, "trace block without byte_order")
	case !header:
		return p.errorf(d.tracePos, "trace block without packet.header")
	}
	return nil
}

func (p *tsdlParser) envBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	var domain, tracer bool
	for _, a := range d.env {
		var s string
		switch {
		case a.val.kind == tokString:
			s = a.val.text
		case a.val.kind == tokInt && a.neg:
			if a.val.num > 1<<63 {
				return p.errorf(a.pos, "env %s out of range", a.key)
			}
			s = "-" + strconv.FormatUint(a.val.num, 10)
		case a.val.kind == tokInt:
			s = strconv.FormatUint(a.val.num, 10)
		default:
			return p.errorf(a.pos, "env %s must be a string or an integer", a.key)
		}
		if strings.Contains(a.key, ".") || tsdlReserved[a.key] {
			return p.errorf(a.pos, "bad env key %s", a.key)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return p.errorf(a.pos, "env %s contains NUL", a.key)
		}
		isNum := a.val.kind == tokInt
		switch a.key {
		case "domain":
			if s != Domain || isNum {
				return p.errorf(a.pos, "env domain is %q, not %q: not a lttng-xen trace", s, Domain)
			}
			domain = true
		case "tracer_name":
			if s != TracerName || isNum {
				return p.errorf(a.pos, "env tracer_name is %q, not %q: not a lttng-xen trace", s, TracerName)
			}
			tracer = true
		case "tracer_major", "tracer_minor", "tracer_patchlevel":
			if !isNum || (!a.neg && a.val.num > math.MaxInt64) {
				return p.errorf(a.pos, "env %s must be an integer", a.key)
			}
			n := int64(a.val.num)
			if a.neg {
				n = -n
			}
			switch a.key {
			case "tracer_major":
				info.TracerVersion.Major = n
			case "tracer_minor":
				info.TracerVersion.Minor = n
			default:
				info.TracerVersion.Patchlevel = n
			}
		case "hostname":
			if isNum {
				return p.errorf(a.pos, "env hostname must be a string")
			}
			info.Hostname = s
		default:
			if info.Env == nil {
				info.Env = map[string]string{}
			}
			info.Env[a.key] = s
		}
	}
	if !domain || !tracer {
		return p.errorf(d.envPos, "env without domain = %q and tracer_name = %q: not a lttng-xen trace", Domain, TracerName)
	}
	return nil
}

func (p *tsdlParser) clockBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	info.ClockFreq = ClockFreq
	var offsetPos int
	for _, a := range d.clock {
		uintVal := func() (uint64, *DecodeError) {
			if a.val.kind != tokInt || a.neg {
				return 0, p.errorf(a.pos, "clock %s must be a non-negative integer", a.key)
			}
			return a.val.num, nil
		}
		var err *DecodeError
		switch a.key {
		case "name":
			switch {
			case a.val.kind == tokString:
				info.ClockName = a.val.text
			case a.path != "" && !strings.Contains(a.path, "."):
				info.ClockName = a.path
			default:
				return p.errorf(a.pos, "clock name must be an identifier or a string")
			}
			if !isIdent(info.ClockName) || tsdlReserved[info.ClockName] {
				return p.errorf(a.pos, "clock name %q is not an identifier", info.ClockName)
			}
		case "uuid":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "clock uuid must be a string")
			}
			id, e := ParseUUID(a.val.text)
			if e != nil {
				return p.errorf(a.val.pos, "clock uuid: %v", e)
			}
			info.ClockUUID = id
		case "description":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "clock description must be a string")
			}
			info.ClockDescription = a.val.text
			if strings.IndexByte(info.ClockDescription, 0) >= 0 {
				return p.errorf(a.pos, "clock description contains NUL")
			}
		case "freq":
			info.ClockFreq, err = uintVal()
			if err == nil && info.ClockFreq == 0 {
				err = p.errorf(a.pos, "clock freq must not be 0")
			}
		case "precision":
			info.ClockPrecision, err = uintVal()
		case "offset":
			info.ClockOffset, err = uintVal()
			offsetPos = a.pos
		case "offset_s":
			if a.val.kind != tokInt || a.val.num > math.MaxInt64 {
				return p.errorf(a.pos, "clock offset_s must be an integer")
			}
			info.ClockOffsetSec = int64(a.val.num)
			if a.neg {
				info.ClockOffsetSec = -info.ClockOffsetSec
			}
		case "absolute":
			if b, ok := boolValue(a); !ok {
				return p.errorf(a.pos, "clock absolute must be TRUE or FALSE")
			} else if b {
				return p.errorf(a.pos, "absolute clocks are not supported")
			}
		default:
			return p.errorf(a.pos, "unknown clock attribute %s", a.key)
		}
		if err != nil {
			return err
		}
	}
	if info.ClockName == "" {
		return p.errorf(d.clockPos, "clock without name")
	}
	if info.ClockOffset >= info.ClockFreq {
		return p.errorf(offsetPos, "clock offset %d is not below freq %d", info.ClockOffset, info.ClockFreq)
	}
	return nil
}

// structAlign returns a struct's alignment in bits.
func structAlign(ty *tsdlType) int {
	a := max(ty.align, 1)
	for _, f := range ty.fields {
		switch f.typ.kind {
		case kindInt:
			a = max(a, f.typ.align)
		case kindString:
			a = max(a, 8)
		case kindStruct:
			a = max(a, structAlign(f.typ))
		}
	}
	return a
}

// checkScope checks that a's type is a struct with exactly the fields of
// want (one scope of a fixed layout: [packetLayout], [eventHeaderLayout]),
// naturally aligned unsigned little-endian integers, whose struct alignment
// puts it at want's first offset (an alignment that must be exactly
// wantAlign bits when wantAlign != 0) and its fields at want's offsets.
func (p *tsdlParser) checkScope(name string, a attr, want []layoutField, wantAlign int) *DecodeError {
	ty := a.typ
	if ty == nil {
		return p.errorf(a.pos, "%s must be declared with ':='", name)
	}
	if ty.kind != kindStruct {
		return p.errorf(a.pos, "%s must be a struct", name)
	}
	at := want[0].off
	al := structAlign(ty)
	if wantAlign != 0 && al != wantAlign {
		return p.errorf(a.pos, "%s is aligned on %d bits, this layout needs %d", name, al, wantAlign)
	}
	if at*8%al != 0 {
		return p.errorf(a.pos, "%s is aligned on %d bits, so it cannot start at byte %d as this layout needs", name, al, at)
	}
	if len(ty.fields) != len(want) {
		return p.errorf(a.pos, "%s has %d fields, this layout needs %d (%s)", name, len(ty.fields), len(want), layoutNames(want))
	}
	off := at
	for i, f := range ty.fields {
		w := want[i]
		ft := f.typ
		switch {
		case f.name != w.name:
			return p.errorf(f.pos, "%s field %d is %s, this layout needs %s", name, i, f.name, w.name)
		case f.seqLen != "" || (w.array == 0) != (f.length < 0) || (w.array != 0 && f.length != w.array):
			return p.errorf(f.pos, "%s.%s has the wrong shape", name, f.name)
		case ft.kind != kindInt || ft.size != w.bits || ft.align != w.bits || ft.signed:
			return p.errorf(f.pos, "%s.%s must be an unsigned %d-bit integer aligned on %d bits", name, f.name, w.bits, w.bits)
		case w.clock && ft.mapClock == "":
			return p.errorf(f.pos, "%s.%s must be mapped to the clock", name, f.name)
		case !w.clock && ft.mapClock != "":
			return p.errorf(f.pos, "%s.%s must not be mapped to a clock", name, f.name)
		case ft.mapClock != "" && ft.mapClock != p.clockName:
			return p.errorf(f.pos, "%s.%s is mapped to clock %s, which is not declared", name, f.name, ft.mapClock)
		}
		if off = AlignUp(off, w.bits/8); off != w.off {
			return p.errorf(f.pos, "%s.%s falls at byte %d, this layout has it at %d", name, f.name, off, w.off)
		}
		off += w.size()
	}
	return nil
}

func (p *tsdlParser) streamBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	p.clockName = info.ClockName
	var hdr, pctx bool
	for _, a := range d.stream {
		var err *DecodeError
		switch a.key {
		case "id":
			if a.val.kind != tokInt || a.neg || a.val.num != StreamID {
				return p.errorf(a.pos, "stream id must be %d", StreamID)
			}
		case scopeEventHeader:
			err, hdr = p.checkScope(a.key, a, eventHeaderLayout, RecordAlign*8), true
		case "event.context":
			// Traces written before Channel v2 carried cpu_id in every
			// record; the reader decodes only the packet-context layout.
			return p.errorf(a.pos, "stream event.context is not supported: this trace has the per-record cpu_id layout of lttng-xen before one stream per pCPU; cpu_id belongs in packet.context")
		case scopePacketContext:
			err, pctx = p.checkScope(a.key, a, layoutScope(packetLayout, scopePacketContext), 0), true
		default:
			return p.errorf(a.pos, "unknown stream attribute %s", a.key)
		}
		if err != nil {
			return err
		}
	}
	if !hdr || !pctx {
		return p.errorf(d.streamPos, "stream needs event.header and packet.context")
	}
	return nil
}

func (p *tsdlParser) eventBlocks(d *tsdlDoc) ([]*Event, *DecodeError) {
	events := make([]*Event, 0, len(d.events))
	ids := map[uint32]bool{}
	names := map[string]bool{}
	for i, attrs := range d.events {
		pos := d.eventPos[i]
		var (
			name   string
			id     uint64
			haveID bool
			fields []Field
		)
		for _, a := range attrs {
			switch a.key {
			case "name":
				if a.val.kind != tokString && (a.path == "" || strings.Contains(a.path, ".")) {
					return nil, p.errorf(a.pos, "event name must be a string")
				}
				name = a.val.text
			case "id":
				if a.val.kind != tokInt || a.neg || a.val.num > math.MaxUint32 {
					return nil, p.errorf(a.pos, "event id must be an integer from 0 to %d", uint32(math.MaxUint32))
				}
				id, haveID = a.val.num, true
			case "stream_id":
				if a.val.kind != tokInt || a.neg || a.val.num != StreamID {
					return nil, p.errorf(a.pos, "event stream_id must be %d", StreamID)
				}
			case "loglevel":
				if a.val.kind != tokInt {
					return nil, p.errorf(a.pos, "event loglevel must be an integer")
				}
			case "fields":
				var err *DecodeError
				if fields, err = p.payload(a); err != nil {
					return nil, err
				}
			default:
				return nil, p.errorf(a.pos, "unknown event attribute %s", a.key)
			}
		}
		if name == "" || !haveID {
			return nil, p.errorf(pos, "event without name or id")
		}
		if ids[uint32(id)] {
			return nil, p.errorf(pos, "duplicate event id %d", id)
		}
		if names[name] {
			return nil, p.errorf(pos, "duplicate event name %q", name)
		}
		ids[uint32(id)], names[name] = true, true
		e, err := NewEvent(uint32(id), name, fields)
		if err != nil {
			return nil, p.errorf(pos, "%v", err)
		}
		events = append(events, e)
	}
	slices.SortFunc(events, func(a, b *Event) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return events, nil
}

// payload converts an event's fields struct to fields, folding
// "uint32 _x_length; uint8 x[_x_length];" into one Bytes field x.
func (p *tsdlParser) payload(a attr) ([]Field, *DecodeError) {
	ty := a.typ
	if ty == nil || ty.kind != kindStruct {
		return nil, p.errorf(a.pos, "event fields must be a struct declared with ':='")
	}
	if al := structAlign(ty); al > RecordAlign*8 {
		return nil, p.errorf(a.pos, "event fields aligned on %d bits, at most %d supported", al, RecordAlign*8)
	}
	var fields []Field
	fs := ty.fields
	for i := 0; i < len(fs); i++ {
		f := fs[i]
		ft := f.typ
		if f.length < 0 && f.seqLen == "" && ft.kind == kindInt && i+1 < len(fs) && fs[i+1].seqLen == f.name {
			seq := fs[i+1]
			et := seq.typ
			if ft.size != 32 || ft.align != 32 || ft.signed || ft.mapClock != "" || f.name != bytesLengthName(seq.name) {
				return nil, p.errorf(f.pos, "sequence %s: length must be an unsigned 32-bit integer aligned on 32 bits named %s", seq.name, bytesLengthName(seq.name))
			}
			if et.kind != kindInt || et.size != 8 || et.align != 8 || et.signed || et.mapClock != "" {
				return nil, p.errorf(seq.pos, "sequence %s: elements must be unsigned 8-bit integers", seq.name)
			}
			fields = append(fields, Field{Name: seq.name, Type: Bytes})
			i++
			continue
		}
		if f.length >= 0 || f.seqLen != "" {
			return nil, p.errorf(f.pos, "field %s: arrays and sequences other than bytes (uint32 _NAME_length; uint8 NAME[_NAME_length];) are not supported", f.name)
		}
		switch ft.kind {
		case kindString:
			fields = append(fields, Field{Name: f.name, Type: String})
		case kindInt:
			if ft.align != ft.size || ft.mapClock != "" {
				return nil, p.errorf(f.pos, "field %s: integers must be aligned on their size and not mapped to a clock", f.name)
			}
			t := intType(ft.size, ft.signed)
			if t == 0 {
				return nil, p.errorf(f.pos, "field %s: %d-bit integers are not supported (want 8, 16, 32 or 64)", f.name, ft.size)
			}
			fields = append(fields, Field{Name: f.name, Type: t})
		default:
			return nil, p.errorf(f.pos, "field %s: nested structs are not supported", f.name)
		}
	}
	return fields, nil
}

func intType(bits int, signed bool) Type {
	var t Type
	switch bits {
	case 8:
		t = U8
	case 16:
		t = U16
	case 32:
		t = U32
	case 64:
		t = U64
	default:
		return 0
	}
	if signed {
		t += S8 - U8
	}
	return t
}
