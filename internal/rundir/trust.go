package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// What a client trusts, as ssh's StrictModes does for ~/.ssh: the run
// directory and each directory above it must be owned by the client's
// effective uid or by root; the run directory must not be writable by its
// group or by others (they could put their own dom0.sock there), and a
// directory above it only with the sticky bit (as /tmp: others cannot
// rename or remove what is ours). A socket must be owned by us or root;
// its mode is only who may connect, which the daemons decide (--allow-uid).
// Symbolic links in the path are resolved first and the real path checked.

// Trusted checks that a client may use dir as its run directory. Errors
// wrap [ErrUntrusted] and name the path, its owner or mode, and the rule.
func Trusted(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to trust yet: dialling reports the missing socket
	}
	if err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	for p, leaf := real, true; ; p, leaf = filepath.Dir(p), false {
		if err := trustedDir(p, leaf); err != nil {
			if p != dir {
				return fmt.Errorf("run directory %s: %w", dir, err)
			}
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// trustedDir checks one directory of the path; leaf is the run directory.
func trustedDir(p string, leaf bool) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", p)
	}
	if err := trustedOwner(p, st.Uid); err != nil {
		return err
	}
	mode := fi.Mode()
	sticky := mode&fs.ModeSticky != 0 && !leaf
	switch {
	case mode.Perm()&0o002 != 0 && !sticky:
		return fmt.Errorf("%s (mode %04o) is writable by others: %w", p, mode.Perm(), ErrUntrusted)
	case mode.Perm()&0o020 != 0 && !sticky:
		return fmt.Errorf("%s (mode %04o) is writable by its group: %w", p, mode.Perm(), ErrUntrusted)
	}
	return nil
}

func trustedOwner(p string, uid uint32) error {
	if uid != 0 && uid != uint32(os.Geteuid()) {
		return fmt.Errorf("%s is owned by uid %d, neither us (uid %d) nor root: %w", p, uid, os.Geteuid(), ErrUntrusted)
	}
	return nil
}

// TrustedSocket checks that the socket at path is one a client may
// connect to: owned by us or root. A missing path is not an error (the
// dial reports it). Errors wrap [ErrUntrusted].
func TrustedSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s is not a socket (%s): %w", path, fi.Mode().Type(), ErrUntrusted)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", path)
	}
	return trustedOwner(path, st.Uid)
}
