package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Op names a request. The hypercall ops are in hypercall.go, the tools' ops in tools.go; the
// ops below belong to both protocols.
type Op string

// Ops common to both protocols.
const (
	// OpStatus asks for the trace's [Status]. Arguments: optional Status (none: the first
	// page of the per-pCPU list). Reply: Status (State is [StateNone] when there is no
	// trace), its PerCPU list from Status.CPUFrom as far as fits a message, and NextCPU
	// when the list goes on ([WholeStatus] fetches it all).
	OpStatus Op = "status"
	// OpMap maps the trace's shared memory. Arguments: Map, optional (nil: the consumer
	// role). Reply: MapID (non-zero) and three descriptors, in this order: the control memfd
	// (producer-owned: open read-only and sealed; map it shared, read-only), the consumer
	// memfd (the consumed offsets: open read-write for the consumer role, read-only for an
	// observer) and the buffer memfd (open read-only and sealed; map it shared, read-only).
	// Each successful map takes a reference on the trace's memory until [OpUnmap] with the
	// same MapID, or until the connection that mapped closes. One mapping at a time holds the
	// consumer role. Errors: no_trace, busy (another process holds the consumer role).
	OpMap Op = "map"
	// OpUnmap releases a mapping reference. Arguments: Unmap. Errors: not_found.
	OpUnmap Op = "unmap"
	// OpMetadata fetches the trace's CTF metadata (TSDL text). No arguments. Reply:
	// MetadataVersion (the event table's version the text was made from) and one descriptor, a
	// sealed read-only memfd holding the text (it can outgrow a message). The consumer fetches
	// it again whenever the control page's metadata version changes. Errors: no_trace.
	OpMetadata Op = "metadata"
)

// Ops of run-time event types, filtering and CPU hotplug, in both protocols (dom0 relays them
// as they are). A server that does not implement one replies [CodeUnsupported].
const (
	// OpEventAdd registers an event type at run time. Arguments: EventAdd. Reply: Events
	// holding the new event.
	OpEventAdd Op = "event_add"
	// OpEventList lists the event types, by id, a page at a time (a page fits a message
	// whatever the names and fields). Arguments: optional EventList (none: from id 0).
	// Reply: Events, and NextEvent: 0 when the list is complete, else the id to ask for
	// next (EventList.From).
	OpEventList Op = "event_list"
	// OpEmit makes a pCPU write one event. Arguments: Emit.
	OpEmit Op = "emit"
	// OpEnableEvent enables the events matching the globs. Arguments: Events.
	OpEnableEvent Op = "enable_event"
	// OpDisableEvent disables the events matching the globs. Arguments: Events.
	OpDisableEvent Op = "disable_event"
	// OpCPUOnline brings a pCPU up. Arguments: CPU.
	OpCPUOnline Op = "cpu_online"
	// OpCPUOffline takes a pCPU down. Arguments: CPU.
	OpCPUOffline Op = "cpu_offline"
)

// MaxSessionName bounds a session name, in bytes.
const MaxSessionName = 255

// Mode is the buffer mode of a trace.
type Mode string

// The buffer modes.
const (
	// ModeDiscard drops new records while the buffer is full (and counts them).
	ModeDiscard Mode = "discard"
	// ModeOverwrite (flight recorder) reclaims the oldest delivered
	// sub-buffer instead, counting it overwritten; no consumer is needed.
	ModeOverwrite Mode = "overwrite"
)

// Validate checks that m is a buffer mode: the one check of a mode, made by
// the tools before they send it and by both daemons when they receive it.
func (m Mode) Validate() error {
	switch m {
	case ModeDiscard, ModeOverwrite:
		return nil
	}
	return fmt.Errorf("mode %q is not %q or %q", m, ModeDiscard, ModeOverwrite)
}

// State is the state of the trace.
type State string

// Trace states.
const (
	StateNone    State = "none"
	StateCreated State = "created"
	StateStarted State = "started"
	StateStopped State = "stopped"
)

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	switch s {
	case StateNone, StateCreated, StateStarted, StateStopped:
		return true
	}
	return false
}

// Request is one request message. Exactly the argument struct its Op takes is set; the others
// are nil (see [Request.Validate]).
type Request struct {
	Op       Op            `json:"op"`
	Create   *CreateArgs   `json:"create,omitempty"`    // trace_create, create
	Map      *MapArgs      `json:"map,omitempty"`       // map (optional)
	Unmap    *UnmapArgs    `json:"unmap,omitempty"`     // unmap
	EventAdd *EventAddArgs `json:"event_add,omitempty"` // event_add
	Emit     *EmitArgs     `json:"emit,omitempty"`      // emit
	Events   *EventsArgs   `json:"events,omitempty"`    // enable_event, disable_event
	CPU      *CPUArgs      `json:"cpu,omitempty"`       // cpu_online, cpu_offline
	// EventList is event_list's, optional.
	EventList *EventListArgs `json:"event_list,omitempty"`
	// Status is status's, optional.
	Status *StatusArgs `json:"status,omitempty"`
}

// CreateArgs are the arguments of trace_create (and of the tools' create). Only structural
// checks are made here; the hypervisor validates the geometry.
type CreateArgs struct {
	SubbufSize  uint64        `json:"subbuf_size"`     // bytes per sub-buffer, > 0
	NumSubbuf   uint64        `json:"num_subbuf"`      // sub-buffer count, > 0
	Mode        Mode          `json:"mode"`            // see [Mode.Validate]
	SwitchTimer time.Duration `json:"switch_timer_ns"` // periodic flush, 0 = none; JSON in ns
	// Events holds globs ([path.Match] syntax) of the event names to enable; empty enables all.
	Events []string `json:"events,omitempty"`
	// Name names the session (shown by status); empty: unnamed.
	Name string `json:"name,omitempty"`
	// CPUs lists the pCPUs the hypervisor's workload runs on; empty: every pCPU.
	CPUs []int `json:"cpus,omitempty"`
	// Output, in the tools' create only (dom0 does not relay it), is the absolute directory of
	// the consumer dom0 starts for the session; empty: no consumer.
	Output string `json:"output,omitempty"`
}

// MapRole is what a mapping is for.
type MapRole string

// Map roles.
const (
	// RoleConsumer consumes the trace: it writes the consumed offsets. One at a time.
	RoleConsumer MapRole = "consumer"
	// RoleObserver only reads (a snapshot, a test); it cannot release sub-buffers.
	RoleObserver MapRole = "observer"
)

// MaxOutputLen is the longest MapArgs.Output.
const MaxOutputLen = 4096

// printable reports whether s is valid UTF-8 with no control character.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// MapArgs are the arguments of map.
type MapArgs struct {
	Role MapRole `json:"role,omitempty"` // empty: RoleConsumer
	// PID is the mapping process, as dom0 learnt it from the tool's socket (SO_PEERCRED); dom0
	// overwrites whatever a tool sends. The hypervisor names it to a refused second consumer.
	PID int `json:"pid,omitempty"`
	// Output is where the consumer sends the trace (a directory or a relay URL), for status.
	Output string `json:"output,omitempty"`
}

// UnmapArgs are the arguments of unmap.
type UnmapArgs struct {
	MapID uint64 `json:"map_id"` // as returned by map; never 0
}

// EventAddArgs are the arguments of event_add.
type EventAddArgs struct {
	Decl string `json:"decl"` // the event's declaration, in the record package's syntax
}

// EmitArgs are the arguments of emit.
type EmitArgs struct {
	CPU    int               `json:"cpu"`
	Name   string            `json:"name"`
	Fields map[string]string `json:"fields,omitempty"` // field name → value as text
}

// EventsArgs are the arguments of enable_event and disable_event.
type EventsArgs struct {
	Globs []string `json:"globs"` // [path.Match] syntax, at least one
}

// StatusArgs are the optional arguments of status.
type StatusArgs struct {
	CPUFrom int `json:"cpu_from"` // the first pCPU of the page of Status.PerCPU
}

// EventListArgs are the optional arguments of event_list.
type EventListArgs struct {
	From uint32 `json:"from"` // the first event id of the page
}

// CPUArgs are the arguments of cpu_online and cpu_offline.
type CPUArgs struct {
	CPU int `json:"cpu"`
}

// Reply is one reply message. A successful reply has OK set and Error and Code empty; a failed
// one has OK unset, a Code and a text (see [ErrorReply] and [Reply.Err]). The other fields
// are set by the ops that document them.
type Reply struct {
	OK     bool        `json:"ok"`
	Error  string      `json:"error,omitempty"`
	Code   Code        `json:"code,omitempty"`
	Status *Status     `json:"status,omitempty"`
	MapID  uint64      `json:"map_id,omitempty"`
	Events []EventInfo `json:"events,omitempty"`
	// MetadataVersion is set by metadata.
	MetadataVersion uint64 `json:"metadata_version,omitempty"`
	// Summary is set by the tools' destroy of a session with a consumer: the consumer's
	// closing line (packets and bytes written, events lost).
	Summary string `json:"summary,omitempty"`
	// NextEvent is set by event_list when the list goes on: the id to ask for next.
	NextEvent uint32 `json:"next_event,omitempty"`
}

// EventInfo describes an event type.
type EventInfo struct {
	ID      uint32      `json:"id"`
	Name    string      `json:"name"`
	Fields  []FieldInfo `json:"fields"`
	Enabled bool        `json:"enabled"`
}

// FieldInfo describes one payload field of an event type.
type FieldInfo struct {
	Name string `json:"name"`
	Type string `json:"type"` // the record package's type name, e.g. "u32", "string"
}

// argKind names the argument struct of a [Request], as spelled in JSON.
type argKind string

const (
	argNone      argKind = ""
	argCreate    argKind = "create"
	argMap       argKind = "map"
	argUnmap     argKind = "unmap"
	argEventAdd  argKind = "event_add"
	argEmit      argKind = "emit"
	argEvents    argKind = "events"
	argCPU       argKind = "cpu"
	argEventList argKind = "event_list"
	argStatus    argKind = "status"
)

// opSpec is what the protocol fixes about one op.
type opSpec struct {
	args     argKind
	optional bool               // the arguments may be absent
	replyFDs []string           // names of the descriptors an OK reply carries, in order
	reply    func(*Reply) error // extra checks on an OK reply; nil for none
}

// opSpecs holds every op of both protocols. Ops in both have the same spec.
var opSpecs = map[Op]opSpec{
	OpBindVIRQ:     {replyFDs: []string{"virq"}},
	OpTraceCreate:  {args: argCreate},
	OpTraceStart:   {},
	OpTraceStop:    {},
	OpTraceDestroy: {},

	OpCreate:  {args: argCreate},
	OpStart:   {},
	OpStop:    {},
	OpDestroy: {},
	OpPoll:    {replyFDs: []string{"wakeup"}},

	OpStatus:   {args: argStatus, optional: true, reply: checkStatusReply},
	OpMap:      {args: argMap, optional: true, replyFDs: []string{"control", "consumer", "buffer"}, reply: checkMapReply},
	OpUnmap:    {args: argUnmap},
	OpMetadata: {replyFDs: []string{"metadata"}},

	OpEventAdd:     {args: argEventAdd},
	OpEventList:    {args: argEventList, optional: true},
	OpEmit:         {args: argEmit},
	OpEnableEvent:  {args: argEvents},
	OpDisableEvent: {args: argEvents},
	OpCPUOnline:    {args: argCPU},
	OpCPUOffline:   {args: argCPU},
}

// present lists the argument structs set in r.
func (r Request) present() []argKind {
	var k []argKind
	if r.Create != nil {
		k = append(k, argCreate)
	}
	if r.Map != nil {
		k = append(k, argMap)
	}
	if r.Unmap != nil {
		k = append(k, argUnmap)
	}
	if r.EventAdd != nil {
		k = append(k, argEventAdd)
	}
	if r.Emit != nil {
		k = append(k, argEmit)
	}
	if r.Events != nil {
		k = append(k, argEvents)
	}
	if r.CPU != nil {
		k = append(k, argCPU)
	}
	if r.EventList != nil {
		k = append(k, argEventList)
	}
	if r.Status != nil {
		k = append(k, argStatus)
	}
	return k
}

// Validate checks that r's op is known to one of the protocols and that r carries exactly the
// arguments that op takes, structurally sane. It does not check that the op belongs to a given
// protocol (see [Protocol.Validate]). Errors wrap [ErrUnknownOp] or [ErrBadRequest].
func (r Request) Validate() error {
	spec, ok := opSpecs[r.Op]
	if !ok {
		return fmt.Errorf("op %q: %w", r.Op, ErrUnknownOp)
	}
	present := r.present()
	for _, k := range present {
		if k != spec.args {
			return fmt.Errorf("op %s: unexpected %q arguments: %w", r.Op, k, ErrBadRequest)
		}
	}
	if spec.args == argNone {
		return nil
	}
	if len(present) == 0 {
		if spec.optional {
			return nil
		}
		return fmt.Errorf("op %s: missing %q arguments: %w", r.Op, spec.args, ErrBadRequest)
	}
	if err := r.checkArgs(spec.args); err != nil {
		return fmt.Errorf("op %s: %w: %w", r.Op, ErrBadRequest, err)
	}
	return nil
}

// checkArgs checks the argument struct of kind k, which is present.
func (r Request) checkArgs(k argKind) error {
	switch k {
	case argCreate:
		return r.Create.validate()
	case argMap:
		switch r.Map.Role {
		case "", RoleConsumer, RoleObserver:
		default:
			return fmt.Errorf("role %q is not %q or %q", r.Map.Role, RoleConsumer, RoleObserver)
		}
		if r.Map.PID < 0 {
			return fmt.Errorf("pid %d is negative", r.Map.PID)
		}
		if len(r.Map.Output) > MaxOutputLen || !printable(r.Map.Output) {
			return fmt.Errorf("output is not a printable path or URL of at most %d bytes", MaxOutputLen)
		}
	case argUnmap:
		if r.Unmap.MapID == 0 {
			return fmt.Errorf("map_id is 0")
		}
	case argEventAdd:
		if strings.TrimSpace(r.EventAdd.Decl) == "" {
			return fmt.Errorf("empty decl")
		}
	case argEmit:
		return r.Emit.validate()
	case argEvents:
		if len(r.Events.Globs) == 0 {
			return fmt.Errorf("no globs")
		}
		return validateGlobs(r.Events.Globs)
	case argCPU:
		if r.CPU.CPU < 0 {
			return fmt.Errorf("cpu %d is negative", r.CPU.CPU)
		}
	case argStatus:
		if r.Status.CPUFrom < 0 {
			return fmt.Errorf("cpu_from %d is negative", r.Status.CPUFrom)
		}
	}
	return nil
}

func (a *CreateArgs) validate() error {
	switch {
	case a.SubbufSize == 0:
		return fmt.Errorf("subbuf_size is 0")
	case a.NumSubbuf == 0:
		return fmt.Errorf("num_subbuf is 0")
	case a.Mode.Validate() != nil:
		return a.Mode.Validate()
	case a.SwitchTimer < 0:
		return fmt.Errorf("switch_timer_ns %d is negative", int64(a.SwitchTimer))
	case len(a.Name) > MaxSessionName:
		return fmt.Errorf("name is %d bytes, more than %d", len(a.Name), MaxSessionName)
	case strings.ContainsFunc(a.Name, func(r rune) bool { return r < ' ' || r == '/' || r == 0x7f }):
		return fmt.Errorf("name %q has a '/' or a control character", a.Name)
	case a.Output != "" && !path.IsAbs(a.Output):
		return fmt.Errorf("output %q is not an absolute path", a.Output)
	}
	for _, cpu := range a.CPUs {
		if cpu < 0 {
			return fmt.Errorf("cpu %d is negative", cpu)
		}
	}
	return validateGlobs(a.Events)
}

func (a *EmitArgs) validate() error {
	if a.CPU < 0 {
		return fmt.Errorf("cpu %d is negative", a.CPU)
	}
	if a.Name == "" {
		return fmt.Errorf("empty event name")
	}
	for k := range a.Fields {
		if k == "" {
			return fmt.Errorf("empty field name")
		}
	}
	return nil
}

// validateGlobs checks that each glob is non-empty and well-formed for [path.Match].
func validateGlobs(globs []string) error {
	for _, g := range globs {
		if g == "" {
			return fmt.Errorf("empty glob")
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return nil
}

// validate checks the structure of a reply regardless of its op.
func (r *Reply) validate() error {
	if r.OK {
		if r.Code != "" || r.Error != "" {
			return fmt.Errorf("successful reply with error %q (code %q)", r.Error, r.Code)
		}
	} else if r.Code == "" {
		return fmt.Errorf("failed reply without a code")
	}
	if r.Status != nil && !r.Status.State.Valid() {
		return fmt.Errorf("unknown trace state %q", r.Status.State)
	}
	return nil
}

func checkStatusReply(r *Reply) error {
	if r.Status == nil {
		return fmt.Errorf("status reply without status")
	}
	return nil
}

func checkMapReply(r *Reply) error {
	if r.MapID == 0 {
		return fmt.Errorf("map reply without map_id")
	}
	return nil
}

// decodeObject decodes one message body: a JSON object, unknown fields ignored, types strict.
func decodeObject(b []byte, v any) error {
	if len(b) > MaxMessageSize {
		return fmt.Errorf("%d bytes: %w", len(b), ErrMessageTooLarge)
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("not a JSON object: %w", ErrMalformed)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// DecodeRequest decodes and validates ([Request.Validate]) one request body. Errors wrap
// [ErrBadRequest] (with [ErrMalformed] or [ErrMessageTooLarge]) or [ErrUnknownOp].
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if err := decodeObject(b, &r); err != nil {
		return nil, fmt.Errorf("decode request: %w: %w", ErrBadRequest, err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	return &r, nil
}

// DecodeReply decodes one reply body and checks its structure (an OK reply has no error, a
// failed one has a code, a status has a known state). Errors wrap [ErrMalformed] or
// [ErrMessageTooLarge].
func DecodeReply(b []byte) (*Reply, error) {
	var r Reply
	if err := decodeObject(b, &r); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("decode reply: %w: %w", ErrMalformed, err)
	}
	return &r, nil
}
