package shm

import "fmt"

// Channel is a trace's channel: one ring of sub-buffers per pCPU, all with
// the same geometry, sharing one control region (producer-owned, published
// read-only), one consumer region (the consumed offsets) and one buffer
// region in which pCPU cpu's ring is the cpu-th Geometry.Total() bytes.
// A ring whose pCPU never writes never touches its pages, so on a memfd
// its memory is not allocated until the pCPU first writes.
//
// Its methods are safe for concurrent use. Writers use [Channel.Ring].
type Channel struct {
	cfg   Config
	ctrl  *Control
	rings []*Ring
}

// NewChannel initialises ctrl as the control region for cfg and returns
// the producer for buf. ctrl must be ControlSize(cfg.CPUs, ...) bytes or
// more, cons ConsumerSize(cfg.CPUs, ...) or more, and buf exactly
// cfg.CPUs × cfg.Geometry.Total(); all three 8-byte aligned.
func NewChannel(ctrl, cons, buf []byte, cfg Config) (*Channel, error) {
	if err := cfg.Geometry.Validate(); err != nil {
		return nil, err
	}
	if cfg.Mode != ModeDiscard && cfg.Mode != ModeOverwrite {
		return nil, fmt.Errorf("%w: %v", ErrMode, cfg.Mode)
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	if cfg.CPUs < 0 || cfg.CPUs > MaxCPUs {
		return nil, fmt.Errorf("%w: %d pCPUs (1 to %d)", ErrGeometry, cfg.CPUs, MaxCPUs)
	}
	g := cfg.Geometry
	if uint64(len(buf)) != uint64(cfg.CPUs)*g.Total() {
		return nil, fmt.Errorf("%w: buffer is %d bytes, %d pCPUs of %v need %d", ErrTooSmall, len(buf), cfg.CPUs, g, uint64(cfg.CPUs)*g.Total())
	}
	if !checkAligned(buf) {
		return nil, ErrAlignment
	}
	if cfg.HeaderSize <= 0 || cfg.HeaderSize%recordAlign != 0 || uint64(cfg.HeaderSize) >= g.SubbufSize {
		return nil, fmt.Errorf("%w: packet header size %d (must be a positive multiple of 8 below the sub-buffer size)", ErrGeometry, cfg.HeaderSize)
	}
	if cfg.Clock == nil || cfg.OpenPacket == nil || cfg.ClosePacket == nil {
		return nil, fmt.Errorf("shm: Config needs Clock, OpenPacket and ClosePacket")
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 4096
	}
	c, err := InitControl(ctrl, ControlInfo{
		Version: ControlVersion, PageSize: uint32(cfg.PageSize), Mode: cfg.Mode, Geometry: g,
		UUID: cfg.UUID, StreamID: cfg.StreamID, HeaderSize: uint32(cfg.HeaderSize), CPUs: uint32(cfg.CPUs),
	})
	if err != nil {
		return nil, err
	}
	cv, err := OpenConsumed(cons, cfg.CPUs)
	if err != nil {
		return nil, err
	}
	ch := &Channel{cfg: cfg, ctrl: c}
	for cpu := range cfg.CPUs {
		off := uint64(cpu) * g.Total()
		ch.rings = append(ch.rings, newRing(&ch.cfg, uint32(cpu), c.CPU(cpu), cv, buf[off:off+g.Total():off+g.Total()]))
	}
	return ch, nil
}

// Control returns the control region the channel publishes to.
func (c *Channel) Control() *Control { return c.ctrl }

// Geometry returns the shape of each ring.
func (c *Channel) Geometry() Geometry { return c.cfg.Geometry }

// CPUs is the number of rings.
func (c *Channel) CPUs() int { return len(c.rings) }

// Ring returns pCPU cpu's ring. cpu must be below CPUs.
func (c *Channel) Ring(cpu int) *Ring { return c.rings[cpu] }

// Flush flushes every ring (see [Ring.Flush]) and reports how many packets
// it closed.
func (c *Channel) Flush(final bool) int {
	n := 0
	for _, r := range c.rings {
		if r.Flush(final) {
			n++
		}
	}
	return n
}

// Stats returns the sum of the rings' counters; WriteOffset is the sum of
// their bytes reserved.
func (c *Channel) Stats() Stats {
	var s Stats
	for _, r := range c.rings {
		s.add(r.Stats())
	}
	return s
}

func (s *Stats) add(o Stats) {
	s.WriteOffset += o.WriteOffset
	s.Delivered += o.Delivered
	s.Consumed += o.Consumed
	s.LostFull += o.LostFull
	s.LostTooBig += o.LostTooBig
	s.BadConsumed += o.BadConsumed
	s.Overwritten += o.Overwritten
}
