package consumer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// writeReady hands every delivered packet of every stream to the sink
// and releases what reached it whole.
func (c *Consumer) writeReady() error {
	for {
		wrote := false
		for cpu := range c.ring.Streams() {
			n, err := c.writeStream(cpu)
			if err != nil {
				return err
			}
			wrote = wrote || n > 0
		}
		if !wrote {
			break
		}
	}
	c.stats.Lost = c.lost()
	if c.cfg.OnPackets != nil {
		c.cfg.OnPackets(c.Stats())
	}
	return nil
}

// writeStream hands up to maxIOV delivered packets of cpu's stream to the
// sink, releases those that reached it, and returns how many that was.
func (c *Consumer) writeStream(cpu int) (int, error) {
	s := c.ring.Stream(cpu)
	n := s.Ready()
	// The metadata version is loaded after the delivered sequences: the
	// hypervisor stores a new version before any record of a new event
	// type can be written, hence before the packet holding it is
	// delivered, so a packet seen here is described by the metadata
	// written here, before the packet reaches the sink.
	if v := c.ctrl.MetadataVersion(); v != c.metaVer && c.conn != nil {
		if err := c.writeMetadata(); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, nil
	}
	n = min(n, maxIOV)
	c.pkts = c.pkts[:0]
	seq := s.NextSeq()
	for i := range n {
		c.pkts = append(c.pkts, s.Packet(seq+uint64(i)))
	}
	whole, err := c.sink.write(cpu, c.pkts)
	st := c.streamStats(cpu)
	if whole > 0 {
		s.ReleaseN(whole)
		st.Packets += uint64(whole)
		st.Bytes += uint64(whole) * c.sbSize
		c.stats.Packets += uint64(whole)
		c.stats.Bytes += uint64(whole) * c.sbSize
	}
	cc := c.ctrl.CPU(cpu)
	st.Lost = cc.LostFull() + cc.LostTooBig()
	if err != nil {
		c.stats.Lost = c.lost()
		return whole, err
	}
	return whole, nil
}

// streamStats returns cpu's figures, which exist from its first packet.
func (c *Consumer) streamStats(cpu int) *StreamStats {
	if c.perStream[cpu] == nil {
		c.perStream[cpu] = &StreamStats{CPU: cpu}
	}
	return c.perStream[cpu]
}

// lost sums the records every ring dropped.
func (c *Consumer) lost() uint64 {
	var n uint64
	for cpu := range c.ctrl.CPUs() {
		cc := c.ctrl.CPU(cpu)
		n += cc.LostFull() + cc.LostTooBig()
	}
	return n
}

// noRoom marks out-of-space errors with ErrNoRoom.
func noRoom(err error) error {
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EFBIG) || errors.Is(err, unix.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrNoRoom, err)
	}
	return err
}

// maxIOV is the most packets written by one writev (IOV_MAX is 1024).
const maxIOV = 64

// writevAll writes all of iov, continuing after short writes. It returns
// how many bytes were written, also on error.
func writevAll(fd int, iov [][]byte) (int, error) {
	total := 0
	for len(iov) > 0 {
		n, err := unix.Writev(fd, iov)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return total, err
		}
		if n == 0 {
			return total, unix.EIO
		}
		total += n
		for n > 0 && len(iov) > 0 {
			if n >= len(iov[0]) {
				n -= len(iov[0])
				iov = iov[1:]
				continue
			}
			iov[0] = iov[0][n:]
			n = 0
		}
	}
	return total, nil
}
