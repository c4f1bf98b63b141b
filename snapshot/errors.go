package snapshot

import "errors"

// Sentinel errors; compare with errors.Is.
var (
	// ErrNotEmpty: the output directory holds files and Force was not set.
	ErrNotEmpty = errors.New("output directory is not empty (--force replaces a trace in it)")
	// ErrNotTrace: Force was set but the output directory holds files
	// that are not a trace's: it is left alone.
	ErrNotTrace = errors.New("output directory holds files that are not a trace's; refusing to replace them")
	// ErrRace: another snapshot wrote the output directory meanwhile.
	ErrRace = errors.New("another snapshot wrote the output directory meanwhile")
	// ErrMaxSize: the size limit is below the metadata plus one packet.
	ErrMaxSize = errors.New("--max-size is too small")
)
