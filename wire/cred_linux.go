package wire

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerCred returns the credentials of the process at the other end of a unix socket
// (SO_PEERCRED: as they were when it connected, or made the socketpair). c is a [*Conn], a
// *net.UnixConn or any other socket with a SyscallConn method. Safe to call concurrently with
// anything else on c.
func PeerCred(c syscall.Conn) (pid int, uid, gid uint32, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var serr error
	if err := rc.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, 0, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return 0, 0, 0, fmt.Errorf("peer credentials: getsockopt SO_PEERCRED: %w", serr)
	}
	return int(cred.Pid), cred.Uid, cred.Gid, nil
}
