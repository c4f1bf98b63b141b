package shm

import (
	"encoding/binary"
	"fmt"
)

// Control page layout. All fields little-endian; every word that changes
// after initialisation is 8-byte aligned and accessed only through
// sync/atomic. Producer-owned and consumer-owned words sit on separate
// 64-byte cache lines so the consumer's stores never invalidate the line the
// producer publishes to (and the reverse). docs/ARCHITECTURE.md has the table.
const (
	ControlMagic   = 0x4C54584E // "NXTL" on disk
	ControlVersion = 1

	offMagic      = 0x00 // u32
	offVersion    = 0x04 // u32
	offPageSize   = 0x08 // u32
	offMode       = 0x0C // u32
	offSubbufSize = 0x10 // u64
	offNumSubbuf  = 0x18 // u64
	offUUID       = 0x20 // [16]byte
	offStreamID   = 0x30 // u32
	offHeaderSize = 0x34 // u32
	offCtrlSize   = 0x38 // u32

	// Producer cache line: written by the hypervisor only.
	offState       = 0x40
	offWriteOffset = 0x48
	offDelivered   = 0x50
	offLostFull    = 0x58
	offLostTooBig  = 0x60
	offMetaVersion = 0x68
	offBadConsumed = 0x70

	// Consumer cache line: written by the consumer only. The producer reads
	// offConsumed and never trusts it without checking (see Channel.consumed).
	offConsumed    = 0x80
	offConsumerPID = 0x88

	// Per-slot records: delivered sequence+1, commit count at delivery.
	offSlots   = 0xC0
	slotStride = 16
)

// Mode is the channel's behaviour when the consumer falls behind.
type Mode uint32

const (
	// ModeDiscard drops new records while the buffer is full and counts them.
	ModeDiscard Mode = 0
	// ModeOverwrite (flight recorder) is reserved; NewChannel refuses it.
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
	return 0, fmt.Errorf("%w: %q (want discard)", ErrMode, s)
}

// State values the producer publishes in the control page.
const (
	StateCreated   = 1
	StateStarted   = 2
	StateStopped   = 3
	StateDestroyed = 4
)

// ControlSize is the size of the control region for n sub-buffers, rounded
// up to pageSize: one page up to (pageSize-0xC0)/16 sub-buffers.
func ControlSize(numSubbuf uint64, pageSize int) int {
	n := offSlots + slotStride*int(numSubbuf)
	return (n + pageSize - 1) / pageSize * pageSize
}

// Control is a view of a control page. The zero value is unusable; get one
// from [InitControl] (producer) or [OpenControl] (consumer). Accessors that
// read mutable words are safe for concurrent use; the setters are for the
// owner named in the layout table only.
type Control struct {
	b []byte
}

// ControlInfo is the immutable part of a control page.
type ControlInfo struct {
	Version    uint32
	PageSize   uint32
	Mode       Mode
	Geometry   Geometry
	UUID       [16]byte
	StreamID   uint32
	HeaderSize uint32
	Size       uint32
}

// InitControl writes a fresh control page into b (which must be zero or
// about to be reused) and returns a view of it. Only the producer calls it,
// before any consumer maps b.
func InitControl(b []byte, info ControlInfo) (*Control, error) {
	if err := info.Geometry.Validate(); err != nil {
		return nil, err
	}
	need := ControlSize(info.Geometry.NumSubbuf, int(info.PageSize))
	if len(b) < need {
		return nil, fmt.Errorf("%w: control page is %d bytes, geometry %v needs %d", ErrTooSmall, len(b), info.Geometry, need)
	}
	if !checkAligned(b) {
		return nil, ErrAlignment
	}
	clear(b)
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
	return &Control{b: b[:need]}, nil
}

// OpenControl validates b as a control page and returns a view of it.
func OpenControl(b []byte) (*Control, error) {
	c := &Control{b: b}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.b = b[:c.Info().Size]
	return c, nil
}

// Validate checks the immutable header: magic, version, geometry and size.
// It returns an error wrapping ErrTooSmall, ErrAlignment, ErrBadMagic,
// ErrVersion or ErrGeometry.
func (c *Control) Validate() error {
	b := c.b
	if len(b) < offSlots {
		return fmt.Errorf("%w: control page is %d bytes, the header alone is %d", ErrTooSmall, len(b), offSlots)
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
	need := ControlSize(info.Geometry.NumSubbuf, int(info.PageSize))
	if int(info.Size) != need || len(b) < need {
		return fmt.Errorf("%w: control page is %d bytes (header says %d), geometry %v needs %d", ErrTooSmall, len(b), info.Size, info.Geometry, need)
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
	return info
}

// Bytes returns the whole control region.
func (c *Control) Bytes() []byte { return c.b }

// State is the trace state the producer last published (State* constants).
func (c *Control) State() uint64 { return word(c.b, offState).Load() }

// SetState publishes the trace state. Producer only.
func (c *Control) SetState(s uint64) { word(c.b, offState).Store(s) }

// WriteOffset is the producer's write offset as of its last packet switch.
func (c *Control) WriteOffset() uint64 { return word(c.b, offWriteOffset).Load() }

// Delivered is the number of packets delivered so far.
func (c *Control) Delivered() uint64 { return word(c.b, offDelivered).Load() }

// LostFull is the cumulative count of records dropped because the buffer was full.
func (c *Control) LostFull() uint64 { return word(c.b, offLostFull).Load() }

// LostTooBig is the cumulative count of records dropped for being larger than a sub-buffer.
func (c *Control) LostTooBig() uint64 { return word(c.b, offLostTooBig).Load() }

// BadConsumed counts consumed-offset values the producer rejected.
func (c *Control) BadConsumed() uint64 { return word(c.b, offBadConsumed).Load() }

// MetadataVersion changes whenever the event table grows; the consumer
// rewrites its metadata file when it sees a new value.
func (c *Control) MetadataVersion() uint64 { return word(c.b, offMetaVersion).Load() }

// SetMetadataVersion publishes a new metadata version. Producer only.
func (c *Control) SetMetadataVersion(v uint64) { word(c.b, offMetaVersion).Store(v) }

// Consumed is the consumer's consumed offset (a multiple of the sub-buffer
// size when the consumer is well behaved; the producer checks).
func (c *Control) Consumed() uint64 { return word(c.b, offConsumed).Load() }

// StoreConsumed publishes the consumed offset. Consumer only. The store is
// sequentially consistent, so every read the consumer made of the released
// sub-buffer happens before the producer can observe the new offset and
// reuse the slot.
func (c *Control) StoreConsumed(v uint64) { word(c.b, offConsumed).Store(v) }

// ConsumerPID is the pid the consumer published, 0 if none.
func (c *Control) ConsumerPID() uint64 { return word(c.b, offConsumerPID).Load() }

// SetConsumerPID publishes the consumer's pid. Consumer only.
func (c *Control) SetConsumerPID(pid uint64) { word(c.b, offConsumerPID).Store(pid) }

// SlotDelivered is the sequence number + 1 of the last packet delivered in
// slot i (0: none yet).
func (c *Control) SlotDelivered(i uint64) uint64 {
	return word(c.b, offSlots+int(i)*slotStride).Load()
}

// SlotCommit is slot i's commit count at its last delivery.
func (c *Control) SlotCommit(i uint64) uint64 {
	return word(c.b, offSlots+int(i)*slotStride+8).Load()
}

// publish* are the producer's stores.

func (c *Control) publishWriteOffset(v uint64) { word(c.b, offWriteOffset).Store(v) }
func (c *Control) publishLost(full, big uint64) {
	word(c.b, offLostFull).Store(full)
	word(c.b, offLostTooBig).Store(big)
}
func (c *Control) publishBadConsumed(v uint64) { word(c.b, offBadConsumed).Store(v) }

// publishSlot records a delivery. The delivered-sequence store comes last:
// a consumer that loads it and sees seq+1 also sees the commit snapshot and,
// through the producer's commit-counter chain, every byte of the packet.
func (c *Control) publishSlot(i, seq, commit uint64) {
	word(c.b, offSlots+int(i)*slotStride+8).Store(commit)
	word(c.b, offSlots+int(i)*slotStride).Store(seq + 1)
	word(c.b, offDelivered).Add(1)
}
