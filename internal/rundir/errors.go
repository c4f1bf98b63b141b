package rundir

import "errors"

// Errors from [Ensure], for a path that must not be used as the run directory.
var (
	// ErrSymlink: the path is a symbolic link (someone could point it anywhere).
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotDir: the path exists and is not a directory.
	ErrNotDir = errors.New("not a directory")
	// ErrNotOwner: the directory belongs to another user, who could replace our sockets.
	ErrNotOwner = errors.New("owned by another user")
)

// ErrUntrusted is returned by [Trusted] and [TrustedSocket]: a client must not
// use the run directory or socket (owned by another user, or writable by
// others), since whoever controls it can answer in dom0's place.
var ErrUntrusted = errors.New("not trusted")
