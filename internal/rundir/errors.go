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
