package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lttng-xen/lttng-xen/record"
)

// metadataFile is the TSDL file of a trace directory.
const metadataFile = "metadata"

// openTrace opens the trace directory dir with [record.OpenTrace], turning
// its failures into messages that say what dir lacks: a directory that is
// not there, or one without metadata. A trace with metadata and no stream
// file is a trace in which no pCPU wrote a packet (lttd-xen creates a
// pCPU's stream with its first packet); like babeltrace2, the commands read
// it as a trace of no event. Metadata that does not parse is a
// [*record.DecodeError], whose message names the file and offset.
func openTrace(dir string) (*record.Trace, error) {
	return openMetadata(dir)
}

// openMetadata is [openTrace] for a trace that may have no stream file yet
// (dump --follow, started before lttd-xen has created it).
func openMetadata(dir string) (*record.Trace, error) {
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
	return record.OpenTrace(dir)
}

// eachStream opens every stream file of tr in turn with a Reader in mode
// and calls read with it, stopping at the first error.
func eachStream(tr *record.Trace, mode record.Mode, read func(r *record.Reader) error) error {
	for _, name := range tr.Streams {
		r, err := tr.OpenStream(name)
		if err != nil {
			return err
		}
		r.SetMode(mode)
		err = read(r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// eachRecord reads every stream of tr at once, in mode, and calls fn with
// each record in timestamp order ([record.Merger]: one stream per pCPU,
// merged), stopping at the first error. It returns what the streams
// decoded and skipped, also when it fails.
func eachRecord(tr *record.Trace, mode record.Mode, fn func(rec *record.Record) error) (sum sums, err error) {
	m, err := tr.OpenMerger(mode)
	if err != nil {
		return sum, err
	}
	defer m.Close()
	defer func() { sum.addMerger(m) }()
	var rec record.Record
	for {
		if err := m.NextInto(&rec); err != nil {
			if isEOF(err) {
				return sum, nil
			}
			return sum, err
		}
		if err := fn(&rec); err != nil {
			return sum, err
		}
	}
}

// readMode is the Reader mode of --salvage.
func readMode(salvage bool) record.Mode {
	if salvage {
		return record.Salvage
	}
	return record.Strict
}

// isEOF reports whether err is the end of a stream.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
