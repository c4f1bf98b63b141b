package relayd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// fakePeer listens on two loopback ports and runs a handler on each
// connection: a relay that misbehaves, or a peer that is no relay at all.
type fakePeer struct {
	u     URL
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newFakePeer(t *testing.T, ctrl, data func(net.Conn)) *fakePeer {
	t.Helper()
	if data == nil {
		data = func(c net.Conn) { io.Copy(io.Discard, c) }
	}
	p := &fakePeer{}
	lc := p.listen(t, ctrl)
	ld := p.listen(t, data)
	var err error
	p.u, err = ParseURL(fmt.Sprintf("net://127.0.0.1:%d:%d", lc.Addr().(*net.TCPAddr).Port, ld.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lc.Close()
		ld.Close()
		p.close()
	})
	return p
}

func (p *fakePeer) listen(t *testing.T, handle func(net.Conn)) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.serve(l, handle)
	return l
}

// serve runs handle on every connection l accepts, until l is closed.
func (p *fakePeer) serve(l net.Listener, handle func(net.Conn)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// close closes every connection and waits for the handlers; the
// listeners must be closed first.
func (p *fakePeer) close() {
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// readCommand reads one control command; ok is false at end of input.
func readCommand(c net.Conn) (cmd uint32, payload []byte, ok bool) {
	hdr := make([]byte, ctrlHeaderSize)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return 0, nil, false
	}
	h, _ := decodeCtrlHeader(hdr)
	if h.DataSize > 1<<20 {
		return 0, nil, false
	}
	payload = make([]byte, h.DataSize)
	if _, err := io.ReadFull(c, payload); err != nil {
		return 0, nil, false
	}
	return h.Cmd, payload, true
}

// relayLike answers the version with v and create session with code,
// then every other command with OK (stream handles count from 1).
func relayLike(v version, code uint32) func(net.Conn) {
	return func(c net.Conn) {
		var handle uint64
		for {
			cmd, _, ok := readCommand(c)
			if !ok {
				return
			}
			switch cmd {
			case cmdVersion:
				c.Write(v.encode())
			case cmdCreateSession:
				c.Write(statusReply{ID: 7, Code: code}.encode())
			case cmdAddStream:
				handle++
				c.Write(statusReply{ID: handle, Code: codeOK}.encode())
			case cmdSendMetadata:
			default:
				c.Write(encodeGeneric(codeOK))
			}
		}
	}
}

func TestDialBadPeers(t *testing.T) {
	info := SessionInfo{Name: "s", Hostname: "h", Timeout: 500 * time.Millisecond}
	for _, tc := range []struct {
		name   string
		ctrl   func(net.Conn)
		target error
		want   []string
	}{
		{"garbage", func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			io.Copy(io.Discard, c)
		}, ErrVersion, []string{"version negotiation", "is it an lttng-relayd"}},
		{"closes", func(c net.Conn) {}, ErrPeerClosed, []string{"version negotiation", "closed the connection"}},
		{"short reply then closes", func(c net.Conn) {
			readCommand(c)
			c.Write([]byte{0, 0, 0, 2})
		}, ErrPeerClosed, []string{"version negotiation"}},
		{"silent", func(c net.Conn) { io.Copy(io.Discard, c) }, os.ErrDeadlineExceeded, []string{"version negotiation", "no answer within 500ms"}},
		{"other major", relayLike(version{3, 0}, codeOK), ErrVersion, []string{"answered version 3.0"}},
		{"old minor", relayLike(version{2, 4}, codeOK), ErrVersion, []string{"relay speaks 2.4, need 2.8"}},
		{"refuses session", relayLike(version{2, 13}, codeFatal), ErrRefused, []string{`create session "s"`, "LTTNG_ERR_FATAL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFakePeer(t, tc.ctrl, nil)
			s, err := Dial(context.Background(), p.u, info)
			if err == nil {
				s.Close()
				t.Fatal("Dial succeeded")
			}
			t.Log(err)
			wantOneLine(t, err, append(tc.want, p.u.String())...)
			if !errors.Is(err, tc.target) {
				t.Errorf("error %v is not %v", err, tc.target)
			}
		})
	}
}

func TestDialNoRelay(t *testing.T) {
	ports := freePorts(t, 2)
	u, err := ParseURL(fmt.Sprintf("net://127.0.0.1:%d:%d", ports[0], ports[1]))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(context.Background(), u, SessionInfo{Name: "s", Hostname: "h"})
	wantOneLine(t, err, u.String(), "connect control port", "refused")

	// A control port that answers, and a data port where no one listens.
	p := newFakePeer(t, relayLike(version{2, 13}, codeOK), nil)
	u = p.u
	u.DataPort = ports[1]
	_, err = Dial(context.Background(), u, SessionInfo{Name: "s", Hostname: "h"})
	wantOneLine(t, err, u.String(), "connect data port", "refused")
}

func TestDialCancelled(t *testing.T) {
	p := newFakePeer(t, func(c net.Conn) { io.Copy(io.Discard, c) }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the dial waits for its version reply.
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	_, err := Dial(ctx, p.u, SessionInfo{Name: "s", Hostname: "h", Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial: %v, want context.Canceled", err)
	}
	wantOneLine(t, err, p.u.String())
}

func TestDialBadInfo(t *testing.T) {
	u, _ := ParseURL("net://127.0.0.1")
	for _, tc := range []struct {
		info SessionInfo
		want string
	}{
		{SessionInfo{Hostname: "h"}, `session name ""`},
		{SessionInfo{Name: "a/b", Hostname: "h"}, `session name "a/b"`},
		{SessionInfo{Name: "s"}, `hostname ""`},
		{SessionInfo{Name: "s", Hostname: string(make([]byte, 64))}, "hostname"},
		{SessionInfo{Name: "s", Hostname: "h", LiveTimer: -time.Second}, "live timer"},
		{SessionInfo{Name: "s", Hostname: "h", LiveTimer: 2 * time.Hour}, "live timer"},
		{SessionInfo{Name: "s", Hostname: "h", LiveTimer: time.Nanosecond}, "live timer"},
	} {
		_, err := Dial(context.Background(), u, tc.info)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", tc.info, err)
		}
		wantOneLine(t, err, u.String(), tc.want)
	}
	f, _ := ParseURL("file:///tmp/x")
	if _, err := Dial(context.Background(), f, SessionInfo{Name: "s", Hostname: "h"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("file URL: %v", err)
	}
}
