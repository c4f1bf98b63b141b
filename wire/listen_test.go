package wire

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func listenT(t *testing.T, path string) *net.UnixListener {
	t.Helper()
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// acceptOne serves one connection from ln with a status reply per request.
func acceptOne(t *testing.T, ln *net.UnixListener) {
	t.Helper()
	go func() {
		uc, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		c := NewConn(uc)
		defer c.Close()
		for {
			if _, err := c.RecvRequest(Hypercalls); err != nil {
				return
			}
			if err := c.Reply(&Reply{Status: &Status{State: StateNone}}); err != nil {
				return
			}
		}
	}()
}

func TestListenDialCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	ln := listenT(t, path)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	acceptOne(t, ln)
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, _, err := c.Call(&Request{Op: OpStatus})
	if err != nil || rep.Status.State != StateNone {
		t.Fatalf("status: %+v, %v", rep, err)
	}
}

func TestListenLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	ln := listenT(t, path)
	go func() { // accept the probe
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err := Listen(path)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("got %v, want ErrAlreadyRunning", err)
	}
	if !strings.Contains(err.Error(), "already running at "+path) {
		t.Errorf("message %q", err)
	}
	// The live socket was left alone.
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatalf("dial after refused listen: %v", err)
	}
	c.Close()
}

func TestListenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false) // as if the server had died
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket missing: %v", err)
	}
	if _, err := Dial(path, time.Second); err == nil {
		t.Fatal("dial to stale socket succeeded")
	}
	ln = listenT(t, path)
	acceptOne(t, ln)
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Call(&Request{Op: OpStatus}); err != nil {
		t.Fatal(err)
	}
}

func TestListenConcurrentStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()

	const n = 8
	var wg sync.WaitGroup
	lns := make(chan *net.UnixListener, n)
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			ln, err := Listen(path)
			if err != nil {
				errs <- err
				return
			}
			lns <- ln
			go func() { // answer probes from the others
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		})
	}
	wg.Wait()
	close(lns)
	close(errs)
	var won int
	for ln := range lns {
		won++
		defer ln.Close()
	}
	for err := range errs {
		if !errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("loser: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d listeners, want 1", won)
	}
}

func TestListenNotSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("got %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep" {
		t.Fatalf("file changed: %q, %v", b, err)
	}
}

func TestListenCloseRemoves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket still there: %v", err)
	}
}

func TestPathTooLong(t *testing.T) {
	path := "/tmp/" + strings.Repeat("x", 200)
	if _, err := Listen(path); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("listen: %v", err)
	}
	if _, err := Dial(path, time.Second); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("dial: %v", err)
	}
}

func TestDialNobody(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "none.sock"), time.Second)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}
