package consumer

import (
	"fmt"
	"io"

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

// resume continues a trace that a previous lttd-xen wrote to Output before
// it died. The ring resumes at the control page's consumed offset C (packet
// C/sbSize is the first one the producer has not been told is consumed);
// the stream file ends at the last whole packet, number S:
//
//   - a partial packet after S (a write cut short) is truncated away: the
//     packet was not released (a packet is released only once whole on
//     disk), so it is still in the ring and is written again;
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
func (c *Consumer) resume() error {
	info := c.ctrl.Info()
	if err := c.trustedConsumed(info.UUID); err != nil {
		return err
	}
	consumed := c.ctrl.Consumed()
	if consumed%c.sbSize != 0 {
		return fmt.Errorf("resume: the control page's consumed offset %#x is not on a sub-buffer boundary", consumed)
	}
	st, err := c.stream.Stat()
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	d, err := scanStream(c.stream, st.Size(), c.sbSize, info.UUID)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if d.end < d.size {
		c.log.Warn("resume: truncating the stream file after its last whole packet",
			"packets", d.packets, "from_bytes", d.size, "to_bytes", d.end, "why", d.reason)
	}
	fd := int(c.stream.Fd())
	if err := unix.Ftruncate(fd, d.end); err != nil {
		return fmt.Errorf("resume: truncate the stream file: %w", err)
	}
	if _, err := unix.Seek(fd, d.end, 0); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	c.pos = d.end
	c.stats.Kept, c.stats.Packets, c.stats.Bytes = d.packets, d.packets, uint64(d.end)

	next := c.ring.NextSeq() // first packet not released
	want := uint64(0)        // first packet not on disk
	if d.packets > 0 {
		want = d.lastSeq + 1
	}
	switch {
	case want >= next:
		skip := want - next
		if skip > info.Geometry.NumSubbuf {
			return fmt.Errorf("resume: the file holds packets up to %d but the ring has only released up to %d: %w", d.lastSeq, next, ErrOtherTrace)
		}
		for seq := next; seq < want; seq++ {
			if c.ctrl.SlotDelivered(seq&(info.Geometry.NumSubbuf-1)) != seq+1 {
				return fmt.Errorf("resume: packet %d is on disk but not delivered in the ring: %w", seq, ErrOtherTrace)
			}
		}
		if skip > 0 {
			c.ring.ReleaseN(int(skip))
			c.log.Info("resume: released packets already on disk", "packets", skip)
		}
	default:
		c.stats.Missing = next - want
		c.log.Warn("resume: packets were consumed but are not on disk: they are lost (babeltrace2 reports the gap)",
			"first", want, "last", next-1, "packets", c.stats.Missing)
	}
	c.log.Info("resuming", "packets_on_disk", d.packets, "next_packet", c.ring.NextSeq())
	return nil
}

// trustedConsumed makes the control page's consumed offset the one the
// hypervisor last accepted: the dead consumer (or anything that mapped the
// trace) may have left garbage there, which the producer rejected and
// counted but which would make this consumer skip or repeat packets. The
// hypervisor's validated count is its status's packets_consumed.
func (c *Consumer) trustedConsumed(uuid [16]byte) error {
	rep, _, err := c.conn.Call(&wire.Request{Op: wire.OpStatus})
	if err != nil {
		return fmt.Errorf("resume: status: %w", err)
	}
	st := rep.Status
	if st == nil || st.UUID != record.FormatUUID(uuid) {
		return fmt.Errorf("resume: the trace changed while mapping it: %w", ErrTraceGone)
	}
	valid := st.PacketsConsumed * c.sbSize
	if got := c.ctrl.Consumed(); got != valid {
		c.log.Warn("resume: the control page's consumed offset is not the one the hypervisor accepted; using the hypervisor's",
			"control_page", fmt.Sprintf("%#x", got), "hypervisor", fmt.Sprintf("%#x", valid))
		c.ctrl.StoreConsumed(valid)
		ring, err := shm.NewConsumer(c.ctrlMap.Data, c.bufMap.Data)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		c.ring, c.ctrl = ring, ring.Control()
	}
	return nil
}
