package consumer

import "errors"

// Errors of a consumer run. Compare with errors.Is.
var (
	// ErrTraceGone: the trace this consumer maps is no longer served. The
	// hypervisor went away (dom0 answers "unavailable"), or the trace was
	// replaced by another one (no trace, or a different memory file). What
	// was delivered has been written; the trace on disk is incomplete: it
	// ends at the last delivered packet.
	ErrTraceGone = errors.New("the trace is gone: the trace on disk is incomplete")

	// ErrNoRoom: the stream file could not grow (ENOSPC, EFBIG from a file
	// size limit, EDQUOT). The file has been truncated back to the end of
	// the last whole packet; the packets not written stay unconsumed, so
	// the hypervisor counts the records it cannot write as lost.
	ErrNoRoom = errors.New("no room left for the trace (disk full or file size limit)")

	// ErrOtherTrace: --resume found packets of another trace in the
	// output directory.
	ErrOtherTrace = errors.New("the output directory holds another trace")

	// ErrRelayGone: the relay the consumer streams to went away and did not
	// come back within the retry time. What it acknowledged is in its
	// trace; the packets not sent stay in the rings, where the producer
	// counts what it cannot write as lost.
	ErrRelayGone = errors.New("the relay went away: the trace it holds is incomplete")

	// ErrNotTrace: --resume found, under a stream file's name, something it
	// will not touch: a symbolic link, a file that is not regular, or one
	// whose first packet does not parse. Nothing was changed.
	ErrNotTrace = errors.New("not a stream of this trace (nothing was changed; --force moves it aside)")

	// ErrNotEmpty: the output directory holds files and neither --force
	// nor --resume was given.
	ErrNotEmpty = errors.New("output directory is not empty (use --force to overwrite, --resume to continue a trace)")
)
