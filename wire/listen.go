package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxPathLen is the longest socket path sockaddr_un holds (108 bytes with the NUL).
const maxPathLen = 107

// probeTimeout bounds the dial with which [Listen] tells a live server from a stale socket.
const probeTimeout = time.Second

// Listen listens for SOCK_SEQPACKET connections on a unix socket at path, created with mode
// 0600 (no connection can be made before the mode is set). Closing the listener removes the
// socket file.
//
// If something exists at path: a socket some server answers on gives an error matching
// [ErrAlreadyRunning] ("already running at PATH"); a socket nobody listens on (left by a
// server that died) is removed and replaced; anything else is an error and is left alone.
// The check and the bind happen under an exclusive flock(2) on path's directory, so of
// several servers started at once on the same path exactly one listens.
//
// Accepted connections are wrapped with [NewConn].
func Listen(path string) (*net.UnixListener, error) {
	ln, err := listen(path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	return ln, nil
}

func listen(path string) (*net.UnixListener, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := removeStale(path); err != nil {
		return nil, err
	}
	return bindListen(path)
}

func checkPath(path string) error {
	switch {
	case path == "":
		return fmt.Errorf("empty socket path")
	case len(path) > maxPathLen:
		return fmt.Errorf("%d bytes, at most %d: %w", len(path), maxPathLen, ErrPathTooLong)
	}
	return nil
}

// lockDir takes an exclusive flock on dir; unlock releases it.
func lockDir(dir string) (unlock func(), err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open directory %s: %w", dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock directory %s: %w", dir, err)
	}
	return func() { unix.Close(fd) }, nil
}

// removeStale removes a socket at path that nobody listens on. The caller holds the
// directory lock.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s is not a socket (%s): %w", path, fi.Mode().Type(), fs.ErrExist)
	}
	c, err := net.DialTimeout("unixpacket", path, probeTimeout)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("%w at %s", ErrAlreadyRunning, path)
	case errors.Is(err, syscall.ENOENT):
		return nil
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("probe existing socket: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// bindListen creates the socket, binds it, listens, then sets its mode.
//
// The socket's own mode is set to 0600 before bind (Linux creates the file
// with the socket inode's mode less the umask), so no connection by another
// user can be made at any moment. The chmod after listen is redundant for the
// mode but not for waiters: it raises IN_ATTRIB once the socket accepts. A
// client that watches the directory with inotify (dom0 for hypervisor.sock,
// lttd-xen for dom0.sock) may see IN_CREATE at bind, before listen, get
// ECONNREFUSED, and then needs one more event to try again: this is it.
func bindListen(path string) (ln *net.UnixListener, err error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close() // net.FileListener works on a duplicate
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return nil, fmt.Errorf("fchmod socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, err
	}
	l, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	ul, ok := l.(*net.UnixListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("listener is a %T", l)
	}
	ul.SetUnlinkOnClose(true)
	return ul, nil
}

// Dial connects to the SOCK_SEQPACKET server at path, waiting at most timeout (0: no limit
// beyond the kernel's).
func Dial(path string, timeout time.Duration) (*Conn, error) {
	if err := checkPath(path); err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("unixpacket", path)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("dial %s: got a %T", path, c)
	}
	return NewConn(uc), nil
}
