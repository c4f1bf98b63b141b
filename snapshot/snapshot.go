package snapshot

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// Config says where and how much to write.
type Config struct {
	// Output is the trace directory to create. It may exist if empty; with
	// Force it may hold a trace, which is replaced.
	Output string
	Force  bool
	// MaxSize bounds the bytes written (metadata included); 0: no bound.
	// The newest packets that fit are kept (by timestamp_end, across
	// pCPUs).
	MaxSize uint64
	// PostMortem says the producer is gone: each ring's open packet is
	// taken too, up to its last committed record. Never set it while
	// writers may run (see [shm.Observer.OpenPacket]).
	PostMortem bool
}

// Result says what a snapshot wrote.
type Result struct {
	Dir     string
	Packets int    // packets written, all pCPUs
	Bytes   uint64 // bytes written, metadata included
	Open    int    // of Packets: open packets completed (post-mortem)
	Dropped int    // packets left out by MaxSize
	Spoiled int    // packets left out because writers overwrote them while they were copied
	Streams int    // stream files written (pCPUs with at least one packet)
}

// packet is one packet to write.
type packet struct {
	cpu   int
	seq   uint64
	tsEnd uint64
	data  []byte
}

// Take copies the newest packets of every ring of obs and writes them,
// with metadata (the trace's TSDL text), as a CTF trace directory.
func Take(obs *shm.Observer, metadata []byte, cfg Config) (Result, error) {
	out, err := newOutput(cfg.Output, cfg.Force)
	if err != nil {
		return Result{}, err
	}
	defer out.abort()
	pkts, open, spoiled, err := collect(obs, metadata, cfg.PostMortem)
	if err != nil {
		return Result{}, err
	}
	kept, dropped, err := newest(pkts, uint64(len(metadata)), cfg.MaxSize)
	if err != nil {
		return Result{}, err
	}
	res := Result{Dir: cfg.Output, Packets: len(kept), Dropped: dropped, Spoiled: spoiled, Bytes: uint64(len(metadata))}
	if err := out.write(consumer.MetadataFile, metadata); err != nil {
		return Result{}, err
	}
	for cpu, stream := range byCPU(kept) {
		var data []byte
		for _, p := range stream {
			data = append(data, p.data...)
			if open[p] {
				res.Open++
			}
		}
		if err := out.write(consumer.StreamFile(cpu), data); err != nil {
			return Result{}, err
		}
		res.Streams++
		res.Bytes += uint64(len(data))
	}
	if err := out.commit(); err != nil {
		return Result{}, err
	}
	return res, nil
}

// collect copies every ring's delivered packets and, post-mortem, its
// completed open packet. open marks the latter.
func collect(obs *shm.Observer, metadata []byte, postMortem bool) (pkts []*packet, open map[*packet]bool, spoiled int, err error) {
	open = map[*packet]bool{}
	var tr *record.Trace
	if postMortem {
		if tr, err = record.NewTrace(metadata); err != nil {
			return nil, nil, 0, fmt.Errorf("metadata: %w", err)
		}
	}
	ctrl := obs.Control()
	for cpu := range ctrl.CPUs() {
		copied, n := obs.CopyCounted(cpu)
		spoiled += n
		for _, c := range copied {
			pkts = append(pkts, &packet{cpu: cpu, seq: c.Seq, tsEnd: le.Uint64(c.Data[record.OffTimestampEnd:]), data: c.Data})
		}
		if !postMortem {
			continue
		}
		seq, committed, raw, ok := obs.OpenPacket(cpu)
		if !ok {
			continue
		}
		cc := ctrl.CPU(cpu)
		if data, tsEnd, ok := completeOpen(tr, cpu, raw, committed, cc.LostFull()+cc.LostTooBig()); ok {
			p := &packet{cpu: cpu, seq: seq, tsEnd: tsEnd, data: data}
			pkts = append(pkts, p)
			open[p] = true
		}
	}
	return pkts, open, spoiled, nil
}

var le = binary.LittleEndian

// newest keeps the packets with the latest timestamp_end whose sizes add
// up to at most maxSize-metaSize (all of them when maxSize is 0). Within a
// pCPU's stream timestamp_end grows with the sequence number, so what is
// kept of each stream is its newest packets, without holes.
func newest(pkts []*packet, metaSize, maxSize uint64) (kept []*packet, dropped int, err error) {
	if maxSize == 0 {
		return pkts, 0, nil
	}
	slices.SortStableFunc(pkts, func(a, b *packet) int { return -cmp.Compare(a.tsEnd, b.tsEnd) })
	if len(pkts) > 0 && metaSize+uint64(len(pkts[0].data)) > maxSize {
		return nil, 0, fmt.Errorf("%w: %d bytes, the metadata (%d bytes) and one %d-byte packet need %d", ErrMaxSize, maxSize, metaSize, len(pkts[0].data), metaSize+uint64(len(pkts[0].data)))
	}
	if metaSize > maxSize {
		return nil, 0, fmt.Errorf("%w: %d bytes, the metadata alone is %d", ErrMaxSize, maxSize, metaSize)
	}
	total := metaSize
	for i, p := range pkts {
		if total+uint64(len(p.data)) > maxSize {
			return pkts[:i], len(pkts) - i, nil
		}
		total += uint64(len(p.data))
	}
	return pkts, 0, nil
}

// byCPU groups packets by pCPU, each group in sequence order.
func byCPU(pkts []*packet) map[int][]*packet {
	m := map[int][]*packet{}
	for _, p := range pkts {
		m[p.cpu] = append(m[p.cpu], p)
	}
	for _, s := range m {
		slices.SortFunc(s, func(a, b *packet) int { return cmp.Compare(a.seq, b.seq) })
	}
	return m
}
