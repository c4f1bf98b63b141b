package consumer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// dirSink writes a trace directory: the metadata file, replaced
// atomically, and one stream file per pCPU, channel0_<cpu>, created at the
// stream's first packet, written with writev(2) straight from the mapping.
type dirSink struct {
	dir     string
	streams []*streamFile // by pCPU; nil until the stream's first packet
	iov     [][]byte
}

func newDirSink(dir string, cpus int) *dirSink {
	return &dirSink{dir: dir, streams: make([]*streamFile, cpus)}
}

func (d *dirSink) where() string { return d.dir }

func (d *dirSink) tick() error { return nil }

func (d *dirSink) writeMetadata(text []byte) error {
	return noRoom(writeAtomic(d.dir, MetadataFile, text))
}

// stream returns cpu's stream file, creating it empty on first use.
func (d *dirSink) stream(cpu int) (*streamFile, error) {
	if sf := d.streams[cpu]; sf != nil {
		return sf, nil
	}
	sf, err := openStreamFile(d.dir, cpu, true)
	if err != nil {
		return nil, noRoom(err)
	}
	d.streams[cpu] = sf
	return sf, nil
}

func (d *dirSink) write(cpu int, pkts [][]byte) (int, error) {
	sf, err := d.stream(cpu)
	if err != nil {
		return 0, err
	}
	d.iov = append(d.iov[:0], pkts...)
	written, err := writevAll(int(sf.f.Fd()), d.iov)
	size := int64(len(pkts[0]))
	whole := int64(written) / size
	sf.pos += whole * size
	sf.packets += uint64(whole)
	if err != nil {
		return int(whole), sf.writeFailed(err)
	}
	return int(whole), nil
}

// writeFailed cuts the stream file back to the end of the last whole
// packet (a short write may have left part of one) so that the trace on
// disk stays readable, and says why.
func (sf *streamFile) writeFailed(err error) error {
	fd := int(sf.f.Fd())
	if terr := unix.Ftruncate(fd, sf.pos); terr != nil {
		err = errors.Join(err, fmt.Errorf("truncate back to %d bytes: %w", sf.pos, terr))
	} else if _, serr := unix.Seek(fd, sf.pos, 0); serr != nil {
		err = errors.Join(err, fmt.Errorf("seek: %w", serr))
	}
	return fmt.Errorf("write %s: %w (the file ends after %d whole packets)", sf.name, noRoom(err), sf.packets)
}

func (d *dirSink) close() error {
	var errs []error
	for i, sf := range d.streams {
		if sf != nil {
			errs = append(errs, sf.f.Close())
			d.streams[i] = nil
		}
	}
	return errors.Join(errs...)
}
