// Package rundir locates and prepares the run directory, where the daemons put their sockets.
//
// All functions are safe for concurrent use.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Socket names inside the run directory.
const (
	HypervisorSocket = "hypervisor.sock"
	Dom0Socket       = "dom0.sock"
)

// EnvVar names the environment variable that sets the run directory when no flag does.
const EnvVar = "LTTNG_XEN_RUN_DIR"

// Perm is the mode of the run directory.
const Perm fs.FileMode = 0o700

// SharedPerm is the mode a daemon started with --allow-uid gives the run directory so that
// other users can reach its sockets (cmdline.Share); Ensure keeps it.
const SharedPerm fs.FileMode = 0o711

// Resolve returns the run directory: flag (the --run-dir value) if not empty, else
// $LTTNG_XEN_RUN_DIR, else $XDG_RUNTIME_DIR/lttng-xen, else /tmp/lttng-xen-UID (UID the
// effective uid; /tmp whatever $TMPDIR says, so that every process finds the same directory).
// It does not touch the file system; see [Ensure].
func Resolve(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "lttng-xen")
	}
	return "/tmp/lttng-xen-" + strconv.Itoa(os.Geteuid())
}

// Ensure makes dir usable as a private run directory: it creates it (and missing parents)
// with mode 0700, or, if it exists, checks that it is a directory (not a symlink to one) owned
// by the effective uid and sets its mode to 0700 (keeping [SharedPerm]). The checks and the mode change are made on
// one open descriptor, so the path cannot be swapped in between. Errors wrap [ErrSymlink],
// [ErrNotDir] or [ErrNotOwner] for a directory that must not be used.
func Ensure(dir string) error {
	if err := ensure(dir); err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	return nil
}

func ensure(dir string) error {
	if dir == "" {
		return errors.New("empty path")
	}
	if err := os.MkdirAll(filepath.Dir(dir), Perm); err != nil {
		return fmt.Errorf("create parent: %w", err)
	}
	if err := os.Mkdir(dir, Perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ELOOP):
		return ErrSymlink
	case errors.Is(err, unix.ENOTDIR):
		// O_NOFOLLOW and O_DIRECTORY together: a symlink may also report ENOTDIR.
		if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode().Type() == fs.ModeSymlink {
			return ErrSymlink
		}
		return ErrNotDir
	case err != nil:
		return fmt.Errorf("open: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if euid := uint32(os.Geteuid()); st.Uid != euid {
		return fmt.Errorf("owned by uid %d, not %d: %w", st.Uid, euid, ErrNotOwner)
	}
	if mode := fs.FileMode(st.Mode) & fs.ModePerm; mode != Perm && mode != SharedPerm || st.Mode&(unix.S_ISUID|unix.S_ISGID|unix.S_ISVTX) != 0 {
		if err := unix.Fchmod(fd, uint32(Perm)); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	return nil
}

// Path returns the path of the socket (or other file) name in dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }
