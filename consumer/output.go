package consumer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MetadataFile is the metadata's name inside a trace directory; the
// streams are named by [StreamFile].
const MetadataFile = "metadata"

// streamCPU returns the pCPU of a stream file's name ("channel0_12": 12),
// or ok == false for any other name (such as ".channel0_3.torn-8192").
func streamCPU(name string) (cpu int, ok bool) {
	digits, found := strings.CutPrefix(name, streamPrefix)
	if !found || digits == "" || len(digits) > 4 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		cpu = cpu*10 + int(r-'0')
	}
	return cpu, true
}

// prepareDir creates dir (0755) or, if it exists, checks that it is empty
// unless force (which removes the trace files) or resume (which keeps them).
func prepareDir(dir string, force, resume bool) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create output directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("output directory: %w", err)
	case len(ents) > 0 && !force && !resume:
		return fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	if force && !resume {
		for _, e := range ents {
			if _, ok := streamCPU(e.Name()); !ok && e.Name() != MetadataFile {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--force: %w", err)
			}
		}
	}
	return nil
}

// writeAtomic replaces dir/name with data: a reader never sees a
// half-written file (write a temporary, fsync, rename).
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	return nil
}
