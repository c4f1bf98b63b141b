package consumer

// sink is where a consumer's packets go: a trace directory ([dirSink]) or
// an lttng-relayd ([relaySink]). The consumer's loop is the same for both:
// it hands a sink the packets delivered in one pCPU's ring, in sequence
// order, and releases as many as the sink says reached it whole. A sink
// is used by the consumer's goroutine only.
type sink interface {
	// writeMetadata makes text the trace's metadata. Each text extends
	// the one before (event types are only ever added).
	writeMetadata(text []byte) error
	// write sends pkts, whole packets of cpu's stream in sequence order
	// (slices of the read-only mapping, valid until released), and returns
	// how many reached the destination whole. On error the packets after
	// those are not released: they are written again or, if the consumer
	// stops, left in the ring, where the producer counts what it cannot
	// write as lost.
	write(cpu int, pkts [][]byte) (int, error)
	// tick runs at every period of the live timer (a relay sink with a
	// live timer only): it tells live readers that the streams with no
	// new packet since the last tick are idle, up to now.
	tick() error
	// where is the destination as the user named it: a directory or a URL.
	where() string
	// close ends the trace at the destination cleanly.
	close() error
}
