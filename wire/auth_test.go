package wire

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRefusedPeerReadsDenied: a server refusing a peer (uid not allowed)
// answers before it closes, and the peer reads the refusal with its uid,
// not a reset or a broken pipe, even when it sends its first request only
// after the server has replied.
func TestRefusedPeerReadsDenied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sock")
	ln := listenT(t, path)
	done := make(chan struct{})
	go func() {
		defer close(done)
		uc, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		c := NewConn(uc)
		defer c.Close()
		Refuse(c, Authorize(4242, nil))
	}()
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitReadable(t, c) // the refusal is queued before our request goes out
	_, _, err = c.Call(&Request{Op: OpStatus})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "uid 4242 is not allowed") {
		t.Fatalf("call on a refused connection: %v, want the denied reply naming uid 4242", err)
	}
	c.Close()
	<-done
}

// waitReadable blocks until a message is queued on c, without reading it.
func waitReadable(t *testing.T, c *Conn) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var perr error
	rc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			_, perr = unix.Poll(pfd, -1)
			if !errors.Is(perr, unix.EINTR) {
				return
			}
		}
	})
	if perr != nil {
		t.Fatal(perr)
	}
}
