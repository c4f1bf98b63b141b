package snapshot

import (
	"bytes"
	"math"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/record"
)

// completeOpen turns a copy of a dead producer's open packet into a closed
// one: it decodes the records up to committed (the bytes the ring's
// writers had committed, see [shm.Observer.OpenPacket]) with the trace's
// event types, stops at the first record that does not decode (a record
// of another writer still unfinished) and writes the context a close would
// have written: timestamp_end (the last record's), content_size (its end)
// and events_discarded (the ring's count). ok is false when no record is
// whole.
func completeOpen(tr *record.Trace, cpu int, raw []byte, committed, lost uint64) (data []byte, tsEnd uint64, ok bool) {
	if committed <= record.PacketHeaderSize {
		return nil, 0, false
	}
	data = bytes.Clone(raw)
	// Decode with the widest bounds the header allows; the real ones are
	// written once the records are known.
	le.PutUint64(data[record.OffContentSize:], committed*8)
	le.PutUint64(data[record.OffTimestampEnd:], math.MaxUint64)
	le.PutUint64(data[record.OffEventsDiscarded:], lost)
	r := tr.NewReader(consumer.StreamFile(cpu), bytes.NewReader(data), int64(len(data)))
	end, last := uint64(0), uint64(0)
	for {
		rec, err := r.Next()
		if err != nil {
			break // io.EOF at committed, or the first damaged record
		}
		end, last = uint64(rec.Offset)+uint64(rec.Size), rec.Timestamp
	}
	if end == 0 {
		return nil, 0, false
	}
	le.PutUint64(data[record.OffContentSize:], end*8)
	le.PutUint64(data[record.OffTimestampEnd:], last)
	return data, last, true
}
