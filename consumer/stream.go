package consumer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// streamFile is the file of one pCPU's stream, OUTDIR/channel0_<cpu>.
type streamFile struct {
	cpu     int
	name    string // path
	f       *os.File
	pos     int64  // end of the last whole packet in the file
	packets uint64 // whole packets in the file
}

// StreamFile returns the name of pCPU cpu's stream file in a trace
// directory: "channel0_<cpu>", as LTTng names a channel's per-CPU streams.
func StreamFile(cpu int) string { return fmt.Sprintf("%s%d", streamPrefix, cpu) }

// streamPrefix starts every stream file's name.
const streamPrefix = "channel0_"

// openStreamFile opens (creating it if need be) dir's stream file for cpu.
// It never follows a symbolic link and accepts only a regular file, so a
// link planted under a stream's name cannot make the consumer truncate or
// write another file. With truncate set, a new trace starts it empty.
func openStreamFile(dir string, cpu int, truncate bool) (*streamFile, error) {
	name := filepath.Join(dir, StreamFile(cpu))
	flags := os.O_CREATE | os.O_RDWR | unix.O_NOFOLLOW // RDWR: --resume reads the packet headers
	f, err := os.OpenFile(name, flags, 0o644)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link: %w", name, ErrNotTrace)
		}
		return nil, fmt.Errorf("open stream file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stream file: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file: %w", name, ErrNotTrace)
	}
	if truncate {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate %s: %w", name, err)
		}
	}
	return &streamFile{cpu: cpu, name: name, f: f}, nil
}
