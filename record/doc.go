// Package record is the trace format of lttng-xen: the event table, the
// writer-side record encoder, the CTF 1.8 packet header and context, the
// TSDL metadata and its parser, the stream decoder, and the clock.
//
// The byte layout is the one of docs/ARCHITECTURE.md. Each pCPU has its
// own stream; a sub-buffer is one CTF packet: a [PacketHeaderSize]-byte
// header and context (with the pCPU's cpu_id, as in LTTng's traces) written
// by [OpenPacket] and [ClosePacket], then records. A record starts on an
// 8-byte boundary with a [HeaderSize]-byte header (timestamp u64, event id
// u32) followed by its fields at their natural alignment (the payload as a
// whole aligned on its most aligned field); the packet's content_size is
// the exact end of its last record. The fixed fields (packet header and
// context, event header) are declared once, in layout tables that the
// writer, [Metadata] and the metadata checker share. [Metadata] declares
// the layout in TSDL so babeltrace2 reads the files as they are, and
// [OpenTrace] reads them back from that metadata, not from the built-in
// table, so event types registered at run time decode too. The package
// example writes one packet and reads it back.
//
// The metadata parser ([ParseMetadata]) works in stages, one file each:
// lexer (parse_lex.go), grammar (parse_grammar.go), semantic checks
// (parse_check.go).
//
// Concurrency: an [*Event] is immutable and may be used by any number of
// goroutines; [Event.Encode] and [EncodeU64U32] write only into the
// caller's buffer and never allocate. A [*Table] is safe for concurrent
// use, with lock-free readers. A [*Trace] is immutable once opened; each
// [*Reader] belongs to one goroutine. Everything else is safe for
// concurrent use.
//
// A [Reader] decodes one stream file in one of three modes: [Strict] stops
// at the first damage; [Salvage] skips damage, resynchronising on the next
// valid packet, and reports what it skipped ([Skip]); [Tail] reads a stream
// still being written, one whole packet at a time ([Reader.Grow]).
// [TraceInfo.NS] and [TraceInfo.Wall] convert timestamps, for any clock
// frequency.
//
// Errors: sentinels are in errors.go; decoding errors are [*DecodeError]
// values naming the file and byte offset, whose message is the one tools
// print ("FILE: offset N: what was expected"). Compare with errors.Is.
package record
