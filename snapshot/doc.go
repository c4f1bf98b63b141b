// Package snapshot writes a flight-recorder snapshot: the newest packets of
// every pCPU ring of a trace, copied out of an observer mapping (writers
// may keep running), as a CTF trace directory (the metadata plus one
// stream file per pCPU, channel0_<cpu>) that babeltrace2 reads.
//
// Packets keep their real packet_seq_num, so a reader sees the packets
// overwritten between two kept packets (or while the snapshot copied) as
// discarded packets, never as damage. After the producer died
// ([Config.PostMortem]) each ring's open packet is kept too, up to its last
// committed record, with its context completed in the copy.
//
// The directory is built under a temporary name beside the output and
// renamed into place once every file is written and synced, so a failed
// or interrupted snapshot never leaves a directory that looks like a
// trace.
package snapshot
