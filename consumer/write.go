package consumer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// writeReady writes every delivered packet of every stream to its file,
// in as few writev(2) calls as possible, straight from the read-only
// mapping, then releases them. A packet is released only once it is whole
// on disk.
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

// writeStream writes up to maxIOV delivered packets of cpu's stream and
// returns how many it wrote.
func (c *Consumer) writeStream(cpu int) (int, error) {
	s := c.ring.Stream(cpu)
	n := s.Ready()
	// The metadata version is loaded after the delivered sequences: the
	// hypervisor stores a new version before any record of a new event
	// type can be written, hence before the packet holding it is
	// delivered, so a packet seen here is described by the metadata
	// written here, before the packet reaches the disk.
	if v := c.ctrl.MetadataVersion(); v != c.metaVer && c.conn != nil {
		if err := c.writeMetadata(); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, nil
	}
	sf, err := c.stream(cpu)
	if err != nil {
		return 0, err
	}
	n = min(n, maxIOV)
	c.iov = c.iov[:0]
	seq := s.NextSeq()
	for i := range n {
		c.iov = append(c.iov, s.Packet(seq+uint64(i)))
	}
	written, err := writevAll(int(sf.f.Fd()), c.iov)
	whole := uint64(written) / c.sbSize
	if whole > 0 {
		s.ReleaseN(int(whole))
		sf.pos += int64(whole * c.sbSize)
		sf.stats.Packets += whole
		sf.stats.Bytes = uint64(sf.pos)
		c.stats.Packets += whole
		c.stats.Bytes += whole * c.sbSize
	}
	cc := c.ctrl.CPU(cpu)
	sf.stats.Lost = cc.LostFull() + cc.LostTooBig()
	if err != nil {
		return int(whole), c.writeFailed(sf, err)
	}
	return n, nil
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

// writeFailed cuts the stream file back to the end of the last whole
// packet (a short write may have left part of one) so that the trace on
// disk stays readable, and says why.
func (c *Consumer) writeFailed(sf *streamFile, err error) error {
	fd := int(sf.f.Fd())
	if terr := unix.Ftruncate(fd, sf.pos); terr != nil {
		err = errors.Join(err, fmt.Errorf("truncate back to %d bytes: %w", sf.pos, terr))
	} else if _, serr := unix.Seek(fd, sf.pos, 0); serr != nil {
		err = errors.Join(err, fmt.Errorf("seek: %w", serr))
	}
	c.stats.Lost = c.lost()
	return fmt.Errorf("write %s: %w (the file ends after %d whole packets)", sf.name, noRoom(err), sf.stats.Packets)
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
