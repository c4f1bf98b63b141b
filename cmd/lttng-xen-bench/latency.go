package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/record"
)

// packetLatency is a consumer.Config.OnPackets hook that measures, for
// every packet lttd-xen's engine (package consumer) has written, the time
// from the packet's delivery to the end of its write: the hook reads each
// new packet's timestamp_end (stored by the writer that closed the packet,
// just before it delivered it) back from the stream file, which is in the
// page cache, and compares it with the trace clock read on entry.
type packetLatency struct {
	dir     string // the consumer's output directory
	sbSize  int64  // every packet in a stream file is one whole sub-buffer
	now     func() uint64
	toNS    func(uint64) uint64
	files   map[int]*os.File
	seen    map[int]uint64 // packets of each stream measured so far
	latency []float64      // µs, one per packet
	err     error          // the first failure, reported after the run
}

func newPacketLatency(dir string, sbSize uint64) *packetLatency {
	return &packetLatency{dir: dir, sbSize: int64(sbSize), files: map[int]*os.File{}, seen: map[int]uint64{}}
}

// hook is the OnPackets callback (called on the consumer's goroutine).
func (l *packetLatency) hook(st consumer.Stats) {
	if l.err != nil || l.sbSize == 0 { // 0: not measuring (the idle poller)
		return
	}
	if l.now == nil {
		if l.err = l.readClock(); l.err != nil {
			return
		}
	}
	now := l.now()
	var ts [8]byte
	for _, s := range st.Streams {
		for k := l.seen[s.CPU]; k < s.Packets; k++ {
			f, err := l.file(s.CPU)
			if err != nil {
				l.err = err
				return
			}
			if _, err := f.ReadAt(ts[:], int64(k)*l.sbSize+record.OffTimestampEnd); err != nil {
				l.err = fmt.Errorf("read packet %d of %s: %w", k, f.Name(), err)
				return
			}
			var d uint64
			if end := binary.LittleEndian.Uint64(ts[:]); now > end {
				d = l.toNS(now - end)
			}
			l.latency = append(l.latency, float64(d)/1e3)
		}
		l.seen[s.CPU] = s.Packets
	}
}

// readClock reads the trace's clock from the metadata the consumer wrote:
// CLOCK_MONOTONIC ns, or TSC counts at the declared frequency.
func (l *packetLatency) readClock() error {
	text, err := os.ReadFile(filepath.Join(l.dir, consumer.MetadataFile))
	if err != nil {
		return err
	}
	info, _, err := record.ParseMetadata(text)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	l.now, l.toNS = record.Monotonic, func(d uint64) uint64 { return d }
	if info.ClockName == record.TSCClockName {
		c := record.TSCClock{Freq: info.ClockFreq}
		l.now, l.toNS = record.TSC, c.Nanos
	}
	return nil
}

func (l *packetLatency) file(cpu int) (*os.File, error) {
	if f := l.files[cpu]; f != nil {
		return f, nil
	}
	f, err := os.Open(filepath.Join(l.dir, consumer.StreamFile(cpu)))
	if err != nil {
		return nil, err
	}
	l.files[cpu] = f
	return f, nil
}

func (l *packetLatency) close() {
	for _, f := range l.files {
		f.Close()
	}
}
