package consumer

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// writeReady writes every delivered packet to the stream file in as few
// writev(2) calls as possible, straight from the read-only mapping, then
// releases them. A packet is released only once it is whole on disk.
func (c *Consumer) writeReady() error {
	for {
		n := c.ring.Ready()
		// The metadata version is loaded after the delivered sequences:
		// the hypervisor stores a new version before any record of a new
		// event type can be written, hence before the packet holding it is
		// delivered, so a packet seen here is described by the metadata
		// written here, before the packet reaches the disk.
		if v := c.ctrl.MetadataVersion(); v != c.metaVer && c.conn != nil {
			if err := c.writeMetadata(); err != nil {
				return err
			}
		}
		if n == 0 {
			break
		}
		n = min(n, maxIOV)
		c.iov = c.iov[:0]
		seq := c.ring.NextSeq()
		for i := range n {
			c.iov = append(c.iov, c.ring.Packet(seq+uint64(i)))
		}
		written, err := writevAll(int(c.stream.Fd()), c.iov)
		whole := uint64(written) / c.sbSize
		if whole > 0 {
			c.ring.ReleaseN(int(whole))
			c.pos += int64(whole * c.sbSize)
			c.stats.Packets += whole
			c.stats.Bytes = uint64(c.pos)
		}
		if err != nil {
			return c.writeFailed(err)
		}
	}
	c.stats.Lost = c.ctrl.LostFull() + c.ctrl.LostTooBig()
	if c.cfg.OnPackets != nil {
		c.cfg.OnPackets(c.stats)
	}
	return nil
}

// writeFailed cuts the stream file back to the end of the last whole
// packet (a short write may have left part of one) so that the trace on
// disk stays readable, and says why.
func (c *Consumer) writeFailed(err error) error {
	name := filepath.Join(c.cfg.Output, StreamFile)
	fd := int(c.stream.Fd())
	if terr := unix.Ftruncate(fd, c.pos); terr != nil {
		err = errors.Join(err, fmt.Errorf("truncate back to %d bytes: %w", c.pos, terr))
	} else if _, serr := unix.Seek(fd, c.pos, 0); serr != nil {
		err = errors.Join(err, fmt.Errorf("seek: %w", serr))
	}
	c.stats.Lost = c.ctrl.LostFull() + c.ctrl.LostTooBig()
	return fmt.Errorf("write %s: %w (the file ends after %d whole packets)", name, noRoom(err), c.stats.Packets)
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
