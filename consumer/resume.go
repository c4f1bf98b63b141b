package consumer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// diskEnd is what resume finds in a stream file.
type diskEnd struct {
	end     int64  // end of the last whole packet
	packets uint64 // whole packets
	lastSeq uint64 // packet_seq_num of the last whole packet (if packets > 0)
	size    int64  // the file's size before truncation
	reason  string // why the scan stopped before size, if it did
}

// scanStream walks the packet headers of a stream file from its start and
// stops at the first packet that is not whole: a header that does not
// parse (record.ParsePacketHeader), a packet_size other than the
// sub-buffer size, or a packet that runs past the end of the file (a write
// cut short). A packet of another trace (UUID) is an error: --resume would
// mix two traces.
func scanStream(f io.ReaderAt, size int64, sbSize uint64, uuid [16]byte) (diskEnd, error) {
	d := diskEnd{size: size}
	hdr := make([]byte, record.PacketHeaderSize)
	for d.end < size {
		if size-d.end < record.PacketHeaderSize {
			d.reason = fmt.Sprintf("%d bytes of a packet header", size-d.end)
			break
		}
		if _, err := f.ReadAt(hdr, d.end); err != nil {
			return d, fmt.Errorf("read packet header at %d: %w", d.end, err)
		}
		p, err := record.ParsePacketHeader(hdr)
		if err != nil {
			d.reason = fmt.Sprintf("bad packet header at %d: %v", d.end, err)
			break
		}
		if p.UUID != uuid {
			return d, fmt.Errorf("packet at offset %d has trace uuid %s, the trace served is %s: %w",
				d.end, record.FormatUUID(p.UUID), record.FormatUUID(uuid), ErrOtherTrace)
		}
		if p.PacketBytes() != sbSize {
			d.reason = fmt.Sprintf("packet at %d is %d bytes, sub-buffers are %d", d.end, p.PacketBytes(), sbSize)
			break
		}
		if d.packets > 0 && p.SeqNum <= d.lastSeq {
			d.reason = fmt.Sprintf("packet at %d has sequence number %d after %d", d.end, p.SeqNum, d.lastSeq)
			break
		}
		if d.end+int64(sbSize) > size {
			d.reason = fmt.Sprintf("packet %d at %d is cut short (%d of %d bytes)", p.SeqNum, d.end, size-d.end, sbSize)
			break
		}
		d.end += int64(sbSize)
		d.packets++
		d.lastSeq = p.SeqNum
	}
	return d, nil
}

// resumePlan is what --resume decided for one stream file.
type resumePlan struct {
	sf    *streamFile
	disk  diskEnd
	aside bool // --force: the file is not this trace's; move it aside whole
}

// resume continues a trace that a previous lttd-xen wrote to Output before
// it died. It decides first and changes nothing until every stream file has
// been accepted: a symbolic link or a file that is not regular under a
// stream's name, a stream whose first packet does not parse, one that
// holds another trace's packets, or one for a pCPU the trace does not
// have, is refused ([ErrNotTrace], [ErrOtherTrace]) with nothing changed,
// unless Config.Force, which moves such a file aside (copied to
// ".channel0_N.torn-0") and starts the stream afresh. The metadata is
// rewritten only after this decision (by Open).
//
// Each pCPU's ring resumes at the consumed offset the hypervisor last
// accepted for it, C (packet C/sbSize is the first one it has not been
// told is consumed); the stream file ends at its last whole packet, number
// S:
//
//   - a partial packet after S (a write cut short) is cut off, and its bytes
//     kept beside the stream as .channel0_N.torn-OFFSET: the packet was not
//     released (a packet is released only once whole on disk), so it is
//     still in the ring and is written again;
//   - packets C/sbSize .. S were written but not released: they are
//     released now without being written twice;
//   - packets S+1 .. C/sbSize-1 were released but are not on disk (only if
//     the file lost its tail after the fact, e.g. a machine crash before the
//     page cache reached the disk): they are gone from the ring. They are
//     counted in Stats.Missing and logged, and the stream shows a
//     packet_seq_num gap that babeltrace2 reports as discarded packets.
//
// Records the producer dropped while no consumer ran are counted by it as
// usual, so babeltrace2 reports them as discarded events.
func (c *Consumer) resume() (err error) {
	info := c.ctrl.Info()
	if err := c.trustedConsumed(info.UUID); err != nil {
		return err
	}
	plans, err := c.planResume(info)
	defer func() {
		if err != nil {
			for _, p := range plans {
				p.sf.f.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := c.applyResume(p); err != nil {
			return err
		}
	}
	c.log.Info("resuming", "streams_on_disk", len(plans), "packets_on_disk", c.stats.Kept)
	return nil
}

// planResume opens and scans every stream file in Output, read-only in
// effect, and checks each against its ring. It changes nothing.
func (c *Consumer) planResume(info shm.ControlInfo) (plans []resumePlan, err error) {
	ents, err := os.ReadDir(c.cfg.Output)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	for _, e := range ents {
		cpu, ok := streamCPU(e.Name())
		if !ok {
			continue
		}
		if cpu >= int(info.CPUs) {
			return plans, fmt.Errorf("resume: %s is the stream of pCPU %d, the trace served has pCPUs 0-%d: %w", e.Name(), cpu, info.CPUs-1, ErrOtherTrace)
		}
		sf, err := openStreamFile(c.cfg.Output, cpu, false)
		if err != nil {
			return plans, fmt.Errorf("resume: %w", err)
		}
		p := resumePlan{sf: sf}
		plans = append(plans, p)
		if err := c.planStream(&plans[len(plans)-1], info); err != nil {
			if !c.cfg.Force || !(errors.Is(err, ErrNotTrace) || errors.Is(err, ErrOtherTrace)) {
				return plans, fmt.Errorf("resume: %w", err)
			}
			c.log.Warn("resume --force: moving the stream file aside", "file", sf.name, "why", err)
			plans[len(plans)-1].aside = true
		}
	}
	return plans, nil
}

// planStream scans p's file and checks it against its ring.
func (c *Consumer) planStream(p *resumePlan, info shm.ControlInfo) error {
	st, err := p.sf.f.Stat()
	if err != nil {
		return err
	}
	d, err := scanStream(p.sf.f, st.Size(), c.sbSize, info.UUID)
	if err != nil {
		return fmt.Errorf("%s: %w", p.sf.name, err)
	}
	if d.packets == 0 && d.size > 0 {
		return fmt.Errorf("%s: its first packet does not parse (%s): %w", p.sf.name, d.reason, ErrNotTrace)
	}
	p.disk = d
	s := c.ring.Stream(p.sf.cpu)
	next, want := s.NextSeq(), d.next()
	if want < next {
		return nil // released but not on disk: counted as missing
	}
	if want-next > info.Geometry.NumSubbuf {
		return fmt.Errorf("%s holds packets up to %d but the ring has only released up to %d: %w", p.sf.name, d.lastSeq, next, ErrOtherTrace)
	}
	cc := c.ctrl.CPU(p.sf.cpu)
	for seq := next; seq < want; seq++ {
		if cc.SlotDelivered(seq&(info.Geometry.NumSubbuf-1)) != seq+1 {
			return fmt.Errorf("%s: packet %d is on disk but not delivered in the ring: %w", p.sf.name, seq, ErrOtherTrace)
		}
	}
	return nil
}

// applyResume carries out p: keeps a torn tail beside the stream, cuts the
// file after its last whole packet, and releases (or counts as missing) the
// packets between the ring's position and the file's end.
func (c *Consumer) applyResume(p resumePlan) error {
	sf, d := p.sf, p.disk
	if p.aside {
		if err := keepAside(sf, 0); err != nil {
			return err
		}
		d = diskEnd{}
	} else if d.end < d.size {
		c.log.Warn("resume: cutting the stream file after its last whole packet; the cut bytes are kept beside it",
			"file", sf.name, "packets", d.packets, "from_bytes", d.size, "to_bytes", d.end, "why", d.reason)
		if err := keepAside(sf, d.end); err != nil {
			return err
		}
	}
	fd := int(sf.f.Fd())
	if err := unix.Ftruncate(fd, d.end); err != nil {
		return fmt.Errorf("resume: truncate %s: %w", sf.name, err)
	}
	if _, err := unix.Seek(fd, d.end, 0); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	sf.pos, sf.packets = d.end, d.packets
	st := c.streamStats(sf.cpu)
	st.Kept, st.Packets, st.Bytes = d.packets, d.packets, uint64(d.end)
	c.stats.Kept += d.packets
	c.stats.Packets += d.packets
	c.stats.Bytes += uint64(d.end)
	c.dir.streams[sf.cpu] = sf

	s := c.ring.Stream(sf.cpu)
	next, want := s.NextSeq(), d.next()
	switch {
	case want > next:
		s.ReleaseN(int(want - next))
		c.log.Info("resume: released packets already on disk", "file", sf.name, "packets", want-next)
	case want < next:
		st.Missing = next - want
		c.stats.Missing += st.Missing
		c.log.Warn("resume: packets were consumed but are not on disk: they are lost (babeltrace2 reports the gap)",
			"file", sf.name, "first", want, "last", next-1, "packets", st.Missing)
	}
	return nil
}

// next is the sequence number of the first packet not on disk.
func (d diskEnd) next() uint64 {
	if d.packets == 0 {
		return 0
	}
	return d.lastSeq + 1
}

// keepAside copies sf's bytes from off to its end into a new file beside
// it, .channel0_N.torn-OFFSET, so that cutting the stream destroys nothing.
// The name starts with a dot because CTF readers (babeltrace2) take every
// other file of a trace directory for a stream and would refuse the trace.
func keepAside(sf *streamFile, off int64) error {
	name := filepath.Join(filepath.Dir(sf.name), fmt.Sprintf(".%s.torn-%d", filepath.Base(sf.name), off))
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("resume: keep the cut bytes: %w", err)
	}
	st, err := sf.f.Stat()
	if err == nil {
		_, err = io.Copy(out, io.NewSectionReader(sf.f, off, st.Size()-off))
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("resume: keep the cut bytes in %s: %w", name, noRoom(err))
	}
	return nil
}

// trustedConsumed sets each stream's position to the consumed offset the
// hypervisor last accepted for its ring: the dead consumer (or anything
// that mapped the trace) may have left garbage in the consumer region,
// which the producer rejected and counted but which would make this
// consumer skip or repeat packets. The hypervisor's validated counts are
// its status's per_cpu packets_consumed.
func (c *Consumer) trustedConsumed(uuid [16]byte) error {
	st, err := wire.WholeStatus(func(r *wire.Request) (*wire.Reply, error) {
		rep, _, err := c.conn.Call(r)
		return rep, err
	})
	if err != nil {
		return fmt.Errorf("resume: status: %w", err)
	}
	if st == nil || st.UUID != record.FormatUUID(uuid) {
		return fmt.Errorf("resume: the trace changed while mapping it: %w", ErrTraceGone)
	}
	if len(st.PerCPU) != c.ring.Streams() {
		return fmt.Errorf("resume: status lists %d pCPUs, the trace has %d rings: %w", len(st.PerCPU), c.ring.Streams(), ErrTraceGone)
	}
	for cpu, cs := range st.PerCPU {
		s := c.ring.Stream(cpu)
		if s.NextSeq() != cs.PacketsConsumed {
			c.log.Warn("resume: the consumer region's consumed offset is not the one the hypervisor accepted; using the hypervisor's",
				"cpu", cpu, "consumer_region", fmt.Sprintf("%#x", s.Consumed()), "hypervisor_packets", cs.PacketsConsumed)
		}
		s.Reset(cs.PacketsConsumed)
	}
	return nil
}
