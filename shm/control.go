package shm

import (
	"encoding/binary"
	"fmt"
)

// Control region layout (layout version 2). The control region is
// producer-owned: the hypervisor maps it read-write, seals it and hands
// consumers a read-only descriptor, so nothing a consumer does can change
// a word in it. It holds a trace header, then one area per pCPU. All fields
// little-endian; every word that changes after initialisation is 8-byte
// aligned and accessed only through sync/atomic. docs/ARCHITECTURE.md has
// the table.
const (
	ControlMagic   = 0x4C54584E // "NXTL" on disk
	ControlVersion = 2

	offMagic      = 0x00 // u32
	offVersion    = 0x04 // u32
	offPageSize   = 0x08 // u32
	offMode       = 0x0C // u32
	offSubbufSize = 0x10 // u64: per pCPU
	offNumSubbuf  = 0x18 // u64: per pCPU
	offUUID       = 0x20 // [16]byte
	offStreamID   = 0x30 // u32
	offHeaderSize = 0x34 // u32
	offCtrlSize   = 0x38 // u32
	offMaxCPUs    = 0x3C // u32
	offCPUStride  = 0x40 // u32: bytes per pCPU area
	offConsSize   = 0x44 // u32: bytes of the consumer region

	// Trace-wide producer words.
	offState       = 0x80
	offMetaVersion = 0x88
	offConsumerPID = 0x90 // pid of the consumer role's holder, 0 if none

	// offCPUs is where the pCPU areas begin. Each area starts with one cache
	// line of counters, then the slot records.
	offCPUs = 0x100

	cpuWriteOffset = 0x00
	cpuDelivered   = 0x08
	cpuLostFull    = 0x10
	cpuLostTooBig  = 0x18
	cpuBadConsumed = 0x20
	cpuOverwritten = 0x28
	cpuSlots       = 0x40 // per slot: delivered sequence+1, commit count at delivery
	slotStride     = 16
)

// MaxCPUs is the largest pCPU count a channel may have.
const MaxCPUs = 4096

// Mode is the channel's behaviour when the consumer falls behind.
type Mode uint32

const (
	// ModeDiscard drops new records while the buffer is full and counts them.
	ModeDiscard Mode = 0
	// ModeOverwrite (flight recorder): a writer that needs a slot whose
	// packet is delivered but not consumed reclaims it and counts it
	// overwritten (see [Ring.Reserve]).
	ModeOverwrite Mode = 1
)

func (m Mode) String() string {
	switch m {
	case ModeDiscard:
		return "discard"
	case ModeOverwrite:
		return "overwrite"
	}
	return fmt.Sprintf("mode(%d)", uint32(m))
}

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "discard", "":
		return ModeDiscard, nil
	case "overwrite":
		return ModeOverwrite, nil
	}
	return 0, fmt.Errorf("%w: %q (want discard or overwrite)", ErrMode, s)
}

// State is the trace state the producer publishes in the control region.
type State uint64

// The trace states, in the order a trace goes through them.
const (
	StateCreated   State = 1
	StateStarted   State = 2
	StateStopped   State = 3
	StateDestroyed State = 4
)

func (s State) String() string {
	switch s {
	case StateCreated:
		return "created"
	case StateStarted:
		return "started"
	case StateStopped:
		return "stopped"
	case StateDestroyed:
		return "destroyed"
	}
	return fmt.Sprintf("state(%d)", uint64(s))
}

// cpuStride is the size of one pCPU area for n sub-buffers, a whole number
// of cache lines so that two pCPUs' counters never share one.
func cpuStride(numSubbuf uint64) int {
	n := cpuSlots + slotStride*int(numSubbuf)
	return (n + 63) &^ 63
}

// ControlSize is the size of the control region for cpus pCPUs with n
// sub-buffers each, rounded up to pageSize.
func ControlSize(cpus int, numSubbuf uint64, pageSize int) int {
	n := offCPUs + cpus*cpuStride(numSubbuf)
	return (n + pageSize - 1) / pageSize * pageSize
}

// Control is a view of a control region. The zero value is unusable; get
// one from [InitControl] (producer) or [OpenControl] (consumer). Accessors
// that read mutable words are safe for concurrent use; the publish methods
// are the producer's.
type Control struct {
	b      []byte
	stride int
	cpus   int
}

// ControlInfo is the immutable part of a control region.
type ControlInfo struct {
	Version      uint32
	PageSize     uint32
	Mode         Mode
	Geometry     Geometry // of each pCPU's ring
	UUID         [16]byte
	StreamID     uint32
	HeaderSize   uint32
	Size         uint32
	CPUs         uint32 // pCPU areas: ids 0 .. CPUs-1
	CPUStride    uint32
	ConsumerSize uint32 // size of the consumer region that goes with it
}

// InitControl writes a fresh control region into b (which must be zero or
// about to be reused) and returns a view of it. Only the producer calls it,
// before any consumer maps b.
func InitControl(b []byte, info ControlInfo) (*Control, error) {
	if err := info.Geometry.Validate(); err != nil {
		return nil, err
	}
	if info.CPUs < 1 || info.CPUs > MaxCPUs {
		return nil, fmt.Errorf("%w: %d pCPUs (1 to %d)", ErrGeometry, info.CPUs, MaxCPUs)
	}
	need := ControlSize(int(info.CPUs), info.Geometry.NumSubbuf, int(info.PageSize))
	if len(b) < need {
		return nil, fmt.Errorf("%w: control region is %d bytes, %d pCPUs of %v need %d", ErrTooSmall, len(b), info.CPUs, info.Geometry, need)
	}
	if !checkAligned(b) {
		return nil, ErrAlignment
	}
	clear(b[:need])
	le := binary.LittleEndian
	le.PutUint32(b[offMagic:], ControlMagic)
	le.PutUint32(b[offVersion:], ControlVersion)
	le.PutUint32(b[offPageSize:], info.PageSize)
	le.PutUint32(b[offMode:], uint32(info.Mode))
	le.PutUint64(b[offSubbufSize:], info.Geometry.SubbufSize)
	le.PutUint64(b[offNumSubbuf:], info.Geometry.NumSubbuf)
	copy(b[offUUID:offUUID+16], info.UUID[:])
	le.PutUint32(b[offStreamID:], info.StreamID)
	le.PutUint32(b[offHeaderSize:], info.HeaderSize)
	le.PutUint32(b[offCtrlSize:], uint32(need))
	le.PutUint32(b[offMaxCPUs:], info.CPUs)
	le.PutUint32(b[offCPUStride:], uint32(cpuStride(info.Geometry.NumSubbuf)))
	le.PutUint32(b[offConsSize:], uint32(ConsumerSize(int(info.CPUs), int(info.PageSize))))
	return &Control{b: b[:need], stride: cpuStride(info.Geometry.NumSubbuf), cpus: int(info.CPUs)}, nil
}

// OpenControl validates b as a control region and returns a view of it.
func OpenControl(b []byte) (*Control, error) {
	c := &Control{b: b}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	info := c.Info()
	c.b, c.stride, c.cpus = b[:info.Size], int(info.CPUStride), int(info.CPUs)
	return c, nil
}

// Validate checks the immutable header: magic, version, geometry and size.
// It returns an error wrapping ErrTooSmall, ErrAlignment, ErrBadMagic,
// ErrVersion or ErrGeometry.
func (c *Control) Validate() error {
	b := c.b
	if len(b) < offCPUs {
		return fmt.Errorf("%w: control region is %d bytes, the header alone is %d", ErrTooSmall, len(b), offCPUs)
	}
	if !checkAligned(b) {
		return ErrAlignment
	}
	le := binary.LittleEndian
	if m := le.Uint32(b[offMagic:]); m != ControlMagic {
		return fmt.Errorf("%w: %#08x, want %#08x", ErrBadMagic, m, uint32(ControlMagic))
	}
	if v := le.Uint32(b[offVersion:]); v != ControlVersion {
		return fmt.Errorf("%w: %d (this build reads %d)", ErrVersion, v, ControlVersion)
	}
	info := c.Info()
	if err := info.Geometry.Validate(); err != nil {
		return err
	}
	if info.PageSize == 0 || !isPow2(uint64(info.PageSize)) {
		return fmt.Errorf("%w: page size %d", ErrGeometry, info.PageSize)
	}
	if info.CPUs < 1 || info.CPUs > MaxCPUs {
		return fmt.Errorf("%w: %d pCPUs (1 to %d)", ErrGeometry, info.CPUs, MaxCPUs)
	}
	if int(info.CPUStride) != cpuStride(info.Geometry.NumSubbuf) {
		return fmt.Errorf("%w: pCPU area stride %d, geometry %v needs %d", ErrGeometry, info.CPUStride, info.Geometry, cpuStride(info.Geometry.NumSubbuf))
	}
	need := ControlSize(int(info.CPUs), info.Geometry.NumSubbuf, int(info.PageSize))
	if int(info.Size) != need || len(b) < need {
		return fmt.Errorf("%w: control region is %d bytes (header says %d), %d pCPUs of %v need %d", ErrTooSmall, len(b), info.Size, info.CPUs, info.Geometry, need)
	}
	if int(info.ConsumerSize) != ConsumerSize(int(info.CPUs), int(info.PageSize)) {
		return fmt.Errorf("%w: consumer region size %d for %d pCPUs", ErrGeometry, info.ConsumerSize, info.CPUs)
	}
	if uint64(info.HeaderSize) >= info.Geometry.SubbufSize {
		return fmt.Errorf("%w: packet header size %d does not fit a %d-byte sub-buffer", ErrGeometry, info.HeaderSize, info.Geometry.SubbufSize)
	}
	return nil
}

// Info decodes the immutable header.
func (c *Control) Info() ControlInfo {
	b, le := c.b, binary.LittleEndian
	var info ControlInfo
	info.Version = le.Uint32(b[offVersion:])
	info.PageSize = le.Uint32(b[offPageSize:])
	info.Mode = Mode(le.Uint32(b[offMode:]))
	info.Geometry = Geometry{SubbufSize: le.Uint64(b[offSubbufSize:]), NumSubbuf: le.Uint64(b[offNumSubbuf:])}
	copy(info.UUID[:], b[offUUID:offUUID+16])
	info.StreamID = le.Uint32(b[offStreamID:])
	info.HeaderSize = le.Uint32(b[offHeaderSize:])
	info.Size = le.Uint32(b[offCtrlSize:])
	info.CPUs = le.Uint32(b[offMaxCPUs:])
	info.CPUStride = le.Uint32(b[offCPUStride:])
	info.ConsumerSize = le.Uint32(b[offConsSize:])
	return info
}

// Bytes returns the whole control region.
func (c *Control) Bytes() []byte { return c.b }

// CPUs is the number of pCPU areas.
func (c *Control) CPUs() int { return c.cpus }

// State is the trace state the producer last published.
func (c *Control) State() State { return State(word(c.b, offState).Load()) }

// SetState publishes the trace state. Producer only.
func (c *Control) SetState(s State) { word(c.b, offState).Store(uint64(s)) }

// MetadataVersion changes whenever the event table grows; the consumer
// rewrites its metadata file when it sees a new value.
func (c *Control) MetadataVersion() uint64 { return word(c.b, offMetaVersion).Load() }

// SetMetadataVersion publishes a new metadata version. Producer only.
func (c *Control) SetMetadataVersion(v uint64) { word(c.b, offMetaVersion).Store(v) }

// ConsumerPID is the pid of the process holding the consumer role, 0 if
// none (as the hypervisor was told it when granting the role).
func (c *Control) ConsumerPID() uint64 { return word(c.b, offConsumerPID).Load() }

// SetConsumerPID publishes the consumer role's holder. Producer only.
func (c *Control) SetConsumerPID(pid uint64) { word(c.b, offConsumerPID).Store(pid) }

// CPU returns the view of pCPU cpu's area. cpu must be below CPUs.
func (c *Control) CPU(cpu int) CPUControl {
	off := offCPUs + cpu*c.stride
	return CPUControl{b: c.b[off : off+c.stride : off+c.stride]}
}

// CPUControl is one pCPU's area of the control region: its ring's write
// offset, delivery and loss counters and slot records.
type CPUControl struct{ b []byte }

// WriteOffset is the ring's write offset as of its last packet switch.
func (c CPUControl) WriteOffset() uint64 { return word(c.b, cpuWriteOffset).Load() }

// Delivered is the number of packets the ring delivered so far.
func (c CPUControl) Delivered() uint64 { return word(c.b, cpuDelivered).Load() }

// LostFull is the cumulative count of records dropped because the ring was full.
func (c CPUControl) LostFull() uint64 { return word(c.b, cpuLostFull).Load() }

// LostTooBig is the cumulative count of records dropped for being larger than a sub-buffer.
func (c CPUControl) LostTooBig() uint64 { return word(c.b, cpuLostTooBig).Load() }

// BadConsumed counts consumed-offset values the producer rejected.
func (c CPUControl) BadConsumed() uint64 { return word(c.b, cpuBadConsumed).Load() }

// slotClaimed is set in a slot's delivered word while the slot is being
// rewritten: slotClaimed|(seq+1) means "packet seq was opened (or is about
// to be) in this slot; its previous packet is gone". It is replaced by seq+1
// when packet seq is delivered.
const slotClaimed = 1 << 63

// SlotDelivered is the sequence number + 1 of the last packet delivered in
// slot i (0: none yet). A value with bit 63 set means the slot is being
// rewritten (see [Ring.Reserve]): it holds no complete packet.
func (c CPUControl) SlotDelivered(i uint64) uint64 {
	return word(c.b, cpuSlots+int(i)*slotStride).Load()
}

// Overwritten is the number of packets the ring reclaimed before they were
// consumed (overwrite mode).
func (c CPUControl) Overwritten() uint64 { return word(c.b, cpuOverwritten).Load() }

// SlotCommit is slot i's commit count at its last delivery, or, while the
// slot's packet is open, as of a batching writer's last flush (a lower
// bound of what is committed; see [Observer.OpenPacket]).
func (c CPUControl) SlotCommit(i uint64) uint64 {
	return word(c.b, cpuSlots+int(i)*slotStride+8).Load()
}

// publish* are the producer's stores.

func (c CPUControl) publishWriteOffset(v uint64) { word(c.b, cpuWriteOffset).Store(v) }
func (c CPUControl) publishLost(full, big uint64) {
	word(c.b, cpuLostFull).Store(full)
	word(c.b, cpuLostTooBig).Store(big)
}
func (c CPUControl) publishBadConsumed(v uint64) { word(c.b, cpuBadConsumed).Store(v) }
func (c CPUControl) publishOverwritten(v uint64) { word(c.b, cpuOverwritten).Store(v) }

// raiseSlotCommit publishes v as slot i's commit count unless a larger one
// (a later flush, or the delivery) is there already: flushes of several
// writers may publish out of order, and the value must never go back.
// Producer only.
func (c CPUControl) raiseSlotCommit(i, v uint64) {
	w := word(c.b, cpuSlots+int(i)*slotStride+8)
	for cur := w.Load(); cur < v; cur = w.Load() {
		if w.CompareAndSwap(cur, v) {
			return
		}
	}
}

// casSlot claims slot i (see [Ring.claimSlot]). Producer only.
func (c CPUControl) casSlot(i, old, v uint64) bool {
	return word(c.b, cpuSlots+int(i)*slotStride).CompareAndSwap(old, v)
}

// publishSlot records a delivery. The delivered-sequence store comes last:
// a consumer that loads it and sees seq+1 also sees the commit snapshot and,
// through the producer's commit-counter chain, every byte of the packet.
func (c CPUControl) publishSlot(i, seq, commit uint64) {
	word(c.b, cpuSlots+int(i)*slotStride+8).Store(commit)
	word(c.b, cpuSlots+int(i)*slotStride).Store(seq + 1)
	word(c.b, cpuDelivered).Add(1)
}
