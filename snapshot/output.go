package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/consumer"
)

// output builds the trace directory under a temporary name beside its
// final one and renames it into place at commit: nobody ever sees a
// partial snapshot under the output's name. Until commit, abort removes
// everything written.
type output struct {
	dir   string // final name
	tmp   string // where the files are written
	force bool
	done  bool
}

// newOutput checks dir before anything is copied (so a bad output costs no
// work): it must not exist, be empty, or (with force) hold only a trace's
// files. It then creates the temporary directory beside it, which also
// proves the parent writable.
func newOutput(dir string, force bool) (*output, error) {
	if dir == "" {
		return nil, fmt.Errorf("no output directory given")
	}
	dir = filepath.Clean(dir)
	if err := checkTarget(dir, force); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".snapshot-")
	if err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	return &output{dir: dir, tmp: tmp, force: force}, nil
}

// checkTarget checks what is at dir now.
func checkTarget(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output directory %s: %w", dir, err)
	case len(ents) == 0:
		return nil
	case !force:
		return fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	for _, e := range ents {
		if !isTraceFile(e.Name()) {
			return fmt.Errorf("%s: %w (%s)", dir, ErrNotTrace, e.Name())
		}
	}
	return nil
}

// isTraceFile reports whether name is a file a trace directory holds.
func isTraceFile(name string) bool {
	if name == consumer.MetadataFile {
		return true
	}
	digits, ok := strings.CutPrefix(name, "channel0_")
	if !ok || digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// write writes one file of the trace and syncs it.
func (o *output) write(name string, data []byte) error {
	f, err := os.OpenFile(filepath.Join(o.tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s in %s: %w", name, o.dir, err)
	}
	return nil
}

// commit moves the trace into place: rename(2) replaces an empty directory
// atomically; with force, the old trace's files are removed first. If
// another snapshot got there first, the directory is not empty any more and
// the rename fails: ErrRace.
func (o *output) commit() error {
	if o.force {
		if err := checkTarget(o.dir, true); err != nil {
			return err
		}
		if ents, err := os.ReadDir(o.dir); err == nil {
			for _, e := range ents {
				if err := os.Remove(filepath.Join(o.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("--force: remove the old trace: %w", err)
				}
			}
		}
	}
	if d, err := os.Open(o.tmp); err == nil { // the directory entries, durably
		d.Sync()
		d.Close()
	}
	// rename(2) itself, not os.Rename, which refuses any existing
	// directory as the target.
	if err := unix.Rename(o.tmp, o.dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("%s: %w", o.dir, ErrRace)
		}
		return fmt.Errorf("output directory %s: %w", o.dir, err)
	}
	o.done = true
	if d, err := os.Open(filepath.Dir(o.dir)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// abort removes the temporary directory unless commit moved it into place.
func (o *output) abort() {
	if !o.done {
		os.RemoveAll(o.tmp)
	}
}
