// Package relayd is a client of lttng-relayd, LTTng's relay daemon: it
// sends a trace's packets, indexes and metadata to a relay over TCP, as
// an LTTng consumer daemon does, so that the relay writes the trace under
// its output directory and serves it to live readers (babeltrace2's
// lttng-live source, Trace Compass) while it is recorded.
//
// It speaks the subset of the relay protocol described in
// docs/ARCHITECTURE.md ("Relay protocol"), at protocol version 2.8: the
// newest version whose session and stream commands need no trace chunks,
// which lttng-relayd 2.11 and later still accept from older peers.
//
// A [Session] owns two connections: control (commands and their replies,
// indexes, metadata) and data (packet bytes). [Dial] negotiates the version
// and creates the session; [Session.AddStream] announces a stream,
// [Session.StreamsSent] publishes the announced streams to live readers,
// [Stream.SendPacket] sends one CTF packet and its index,
// [Session.SendMetadata] appends metadata, [Stream.SendBeacon] tells live
// readers that an idle stream has nothing new, and [Session.Close] closes
// every stream and waits until the relay has written every byte sent.
// When a relay goes away, [Redial] opens a replacement session in a new
// trace directory, retrying as a [Backoff] allows.
//
// Every network operation has a deadline, so a peer that stops answering
// gives an error, never a hang. Errors name the relay's URL and what it
// said.
package relayd
