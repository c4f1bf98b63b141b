package record_test

import (
	"bytes"
	"fmt"

	"github.com/lttng-xen/lttng-xen/record"
)

// A writer opens a packet (a sub-buffer of one pCPU's stream), encodes
// records into it at 8-byte boundaries and closes it at the end of the
// last one; a reader decodes the stream from the trace's metadata.
func Example() {
	tab := record.Builtin()
	printk, _ := tab.Lookup(record.IDPrintk)
	info := record.TraceInfo{UUID: record.NewUUID(), Hostname: "example"}

	// The writer side: one packet of pCPU 2 holding one record.
	pkt := make([]byte, 4096)
	record.OpenPacket(pkt, info.UUID, record.StreamID, 2, 0, 1000)
	off := record.PacketHeaderSize
	off += printk.Encode(pkt[off:], 1000, []record.Value{record.Str("hello")})
	record.ClosePacket(pkt, 1000, uint64(off), 0)

	// The reader side: the metadata says how to decode the stream.
	md, err := record.Metadata(info, tab.Events())
	if err != nil {
		panic(err)
	}
	tr, err := record.NewTrace(md)
	if err != nil {
		panic(err)
	}
	r := tr.NewReader("channel0_2", bytes.NewReader(pkt), int64(len(pkt)))
	rec, err := r.Next()
	if err != nil {
		panic(err)
	}
	fmt.Println(rec)
	// Output: [1000] printk: { cpu_id = 2 }, { msg = "hello" }
}
