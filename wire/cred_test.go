package wire

import (
	"errors"
	"os"
	"testing"
)

func TestPeerCred(t *testing.T) {
	a, b := pair(t)
	for _, c := range []*Conn{a, b} {
		pid, uid, gid, err := PeerCred(c)
		if err != nil {
			t.Fatal(err)
		}
		if pid != os.Getpid() || uid != uint32(os.Geteuid()) || gid != uint32(os.Getegid()) {
			t.Fatalf("got pid %d uid %d gid %d, want %d %d %d",
				pid, uid, gid, os.Getpid(), os.Geteuid(), os.Getegid())
		}
	}
	// Also on the bare *net.UnixConn.
	if pid, _, _, err := PeerCred(a.UnixConn()); err != nil || pid != os.Getpid() {
		t.Fatalf("UnixConn: %d, %v", pid, err)
	}
}

func TestAuthorize(t *testing.T) {
	self := uint32(os.Geteuid())
	other := self + 12345
	for _, tc := range []struct {
		uid     uint32
		allowed []uint32
		ok      bool
	}{
		{0, nil, true},
		{self, nil, true},
		{other, nil, false},
		{other, []uint32{1, other}, true},
		{other, []uint32{other + 1}, false},
	} {
		err := Authorize(tc.uid, tc.allowed)
		if (err == nil) != tc.ok {
			t.Errorf("Authorize(%d, %v) = %v", tc.uid, tc.allowed, err)
		}
		if err != nil && !errors.Is(err, ErrDenied) {
			t.Errorf("Authorize(%d): %v does not match ErrDenied", tc.uid, err)
		}
		if err != nil && ErrorReply(err).Code != CodeDenied {
			t.Errorf("ErrorReply: code %q", ErrorReply(err).Code)
		}
	}
}
