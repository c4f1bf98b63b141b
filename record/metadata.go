package record

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Trace-level constants of the metadata.
const (
	StreamID   = 0           // stream_id (the CTF stream class) of every pCPU's stream
	Domain     = "xen"       // env.domain
	TracerName = "lttng-xen" // env.tracer_name
)

// TracerVersion is the tracer's version, env.tracer_major/minor/patchlevel.
type TracerVersion struct {
	Major, Minor, Patchlevel int64
}

// TraceInfo is what the metadata says about a trace besides its events.
// Zero clock fields take the defaults of [TraceInfo.WithDefaults].
type TraceInfo struct {
	UUID          [16]byte // trace UUID, repeated in every packet header
	Hostname      string
	TracerVersion TracerVersion
	Env           map[string]string // extra env entries; keys are identifiers

	ClockName        string   // default ClockName ("monotonic")
	ClockDescription string   // default ClockDescription
	ClockUUID        [16]byte // identifies the clock's epoch (see BootID); all zero: omitted
	ClockFreq        uint64   // cycles per second, default 1e9 (ns); a TSC clock sets its own
	ClockPrecision   uint64   // in cycles, default 1
	ClockOffsetSec   int64    // clock offset from the Unix epoch: seconds …
	ClockOffset      uint64   // … plus cycles, in [0, ClockFreq)
}

// WithDefaults returns info with zero clock fields set to their defaults:
// name ClockName, description ClockDescription, frequency ClockFreq,
// precision 1.
func (info TraceInfo) WithDefaults() TraceInfo {
	if info.ClockName == "" {
		info.ClockName = ClockName
	}
	if info.ClockDescription == "" {
		info.ClockDescription = ClockDescription
	}
	if info.ClockFreq == 0 {
		info.ClockFreq = ClockFreq
	}
	if info.ClockPrecision == 0 {
		info.ClockPrecision = 1
	}
	return info
}

// reservedEnv are the env keys Metadata writes itself.
var reservedEnv = map[string]bool{
	"domain": true, "tracer_name": true, "tracer_major": true,
	"tracer_minor": true, "tracer_patchlevel": true, "hostname": true,
}

// Validate checks what [Metadata] needs of info (after defaults): env keys
// that are identifiers, not TSDL keywords and not written by Metadata
// itself; a clock name that is an identifier; a clock offset below one
// second's worth of cycles; no NUL in any string.
func (info TraceInfo) Validate() error {
	info = info.WithDefaults()
	if !isIdent(info.ClockName) || tsdlReserved[info.ClockName] {
		return fmt.Errorf("clock name %q is not an identifier", info.ClockName)
	}
	if info.ClockOffset >= info.ClockFreq {
		return fmt.Errorf("clock offset %d cycles is not below the frequency %d", info.ClockOffset, info.ClockFreq)
	}
	if strings.IndexByte(info.Hostname, 0) >= 0 || strings.IndexByte(info.ClockDescription, 0) >= 0 {
		return fmt.Errorf("hostname or clock description contains NUL")
	}
	for k, v := range info.Env {
		switch {
		case strings.IndexByte(v, 0) >= 0:
			return fmt.Errorf("env %s: value contains NUL", k)
		case !isIdent(k) || tsdlReserved[k]:
			return fmt.Errorf("env key %q is not an identifier", k)
		case reservedEnv[k]:
			return fmt.Errorf("env key %q is written by the tracer itself", k)
		}
	}
	return nil
}

// Metadata returns the TSDL (CTF 1.8) text describing a trace with info and
// events, which is all a reader needs to decode the stream files: the byte
// layout of docs/ARCHITECTURE.md with every integer's alignment explicit.
// Events may come in any order but need distinct ids and names and valid
// declarations ([NewEvent] rules). A Bytes field NAME is declared as
// "uint32 _NAME_length; uint8 NAME[_NAME_length];". Errors come from
// [TraceInfo.Validate] and the event checks.
func Metadata(info TraceInfo, events []*Event) ([]byte, error) {
	info = info.WithDefaults()
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	ids := make(map[uint32]bool, len(events))
	names := make(map[string]bool, len(events))
	for _, e := range events {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if ids[e.ID] {
			return nil, fmt.Errorf("metadata: duplicate event id %d", e.ID)
		}
		if names[e.Name] {
			return nil, fmt.Errorf("metadata: %w: %s", ErrDuplicateEvent, e.Name)
		}
		ids[e.ID], names[e.Name] = true, true
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("/* CTF 1.8 */\n\n")
	for _, t := range []Type{U8, U16, U32, U64, S8, S16, S32, S64} {
		w("typealias integer { size = %d; align = %d; signed = %t; } := %s;\n", t.Bits(), t.Bits(), t.Signed(), tsdlTypeName[t])
	}
	clockInt := fmt.Sprintf("integer { size = 64; align = 64; signed = false; map = clock.%s.value; }", info.ClockName)

	w("\ntrace {\n")
	w("\tmajor = 1;\n\tminor = 8;\n")
	w("\tuuid = \"%s\";\n", FormatUUID(info.UUID))
	w("\tbyte_order = le;\n")
	w("\t%s := %s;\n", scopePacketHeader, tsdlLayoutStruct(layoutScope(packetLayout, scopePacketHeader), clockInt, 1))
	w("};\n")

	w("\nenv {\n")
	w("\tdomain = %s;\n", quoteTSDL(Domain))
	w("\ttracer_name = %s;\n", quoteTSDL(TracerName))
	w("\ttracer_major = %d;\n", info.TracerVersion.Major)
	w("\ttracer_minor = %d;\n", info.TracerVersion.Minor)
	w("\ttracer_patchlevel = %d;\n", info.TracerVersion.Patchlevel)
	w("\thostname = %s;\n", quoteTSDL(info.Hostname))
	keys := make([]string, 0, len(info.Env))
	for k := range info.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w("\t%s = %s;\n", k, quoteTSDL(info.Env[k]))
	}
	w("};\n")

	w("\nclock {\n")
	w("\tname = %s;\n", info.ClockName)
	if info.ClockUUID != ([16]byte{}) {
		w("\tuuid = \"%s\";\n", FormatUUID(info.ClockUUID))
	}
	w("\tdescription = %s;\n", quoteTSDL(info.ClockDescription))
	w("\tfreq = %d;\n", info.ClockFreq)
	w("\tprecision = %d;\n", info.ClockPrecision)
	w("\toffset_s = %d;\n", info.ClockOffsetSec)
	w("\toffset = %d;\n", info.ClockOffset)
	w("\tabsolute = FALSE;\n")
	w("};\n")

	w("\nstream {\n")
	w("\tid = %d;\n", StreamID)
	w("\t%s := %s;\n", scopeEventHeader, tsdlLayoutStruct(eventHeaderLayout, clockInt, 1))
	w("\t%s := %s;\n", scopePacketContext, tsdlLayoutStruct(layoutScope(packetLayout, scopePacketContext), clockInt, 1))
	w("};\n")

	for _, e := range events {
		w("\nevent {\n")
		w("\tname = %s;\n", quoteTSDL(e.Name))
		w("\tid = %d;\n", e.ID)
		w("\tstream_id = %d;\n", StreamID)
		w("\tfields := struct {\n")
		for _, f := range e.Fields {
			switch f.Type {
			case String:
				w("\t\tstring { encoding = UTF8; } %s;\n", f.Name)
			case Bytes:
				w("\t\tuint32 %s;\n", bytesLengthName(f.Name))
				w("\t\tuint8 %s[%s];\n", f.Name, bytesLengthName(f.Name))
			default:
				w("\t\t%s %s;\n", tsdlTypeName[f.Type], f.Name)
			}
		}
		w("\t};\n")
		w("};\n")
	}
	return []byte(b.String()), nil
}

// tsdlTypeName are the type aliases Metadata declares for the integer types.
var tsdlTypeName = [...]string{
	U8: "uint8", U16: "uint16", U32: "uint32", U64: "uint64",
	S8: "int8", S16: "int16", S32: "int32", S64: "int64",
}

// bytesLengthName is the metadata name of a Bytes field's length, as
// LTTng names sequence lengths.
func bytesLengthName(field string) string { return "_" + field + lengthSuffix }

// quoteTSDL returns s as a TSDL string literal. Quotes and backslashes are
// escaped; control characters use three-digit octal escapes (babeltrace2
// reads at most three digits, so the next character cannot be absorbed).
// Other bytes, UTF-8 included, are written as they are.
func quoteTSDL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte('\\')
			o := strconv.FormatUint(uint64(c), 8)
			b.WriteString(strings.Repeat("0", 3-len(o)) + o)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
