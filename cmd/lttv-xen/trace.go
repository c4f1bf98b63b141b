package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lttng-xen/lttng-xen/record"
)

// metadataFile is the TSDL file of a trace directory.
const metadataFile = "metadata"

// openTrace opens the trace directory dir with [record.OpenTrace], turning
// its failures into messages that say what dir lacks: a directory that is not
// there, a directory without metadata, or one without any stream file.
// Metadata that does not parse is a [locatedError].
func openTrace(dir string) (*record.Trace, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such trace directory", dir)
	case err != nil:
		return nil, fmt.Errorf("trace directory: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("%s: not a directory (give the trace directory, which holds %s and channel0_0)", dir, metadataFile)
	}
	if _, err := os.Stat(filepath.Join(dir, metadataFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not a trace directory: no %s file", dir, metadataFile)
	}
	tr, err := record.OpenTrace(dir)
	if err != nil {
		return nil, located(err)
	}
	if len(tr.Streams) == 0 {
		return nil, fmt.Errorf("%s: not a trace directory: %s but no stream file (channelN_M)", dir, metadataFile)
	}
	return tr, nil
}

// locatedError is a [*record.DecodeError] printed as "FILE: offset N: what",
// the form every lttv-xen command reports a decoding failure in. It unwraps
// to the DecodeError, so errors.As and errors.Is (the record sentinels) see
// through it.
type locatedError struct{ *record.DecodeError }

func (e *locatedError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *locatedError) Unwrap() error { return e.DecodeError }

// located returns err as a [*locatedError] if it is a decoding error, else
// err itself.
func located(err error) error {
	var de *record.DecodeError
	if errors.As(err, &de) {
		return &locatedError{de}
	}
	return err
}
