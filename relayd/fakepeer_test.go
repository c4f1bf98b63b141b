package relayd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
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
		{SessionInfo{Name: "s", Hostname: "h", TracePath: "/abs"}, `trace path "/abs"`},
		{SessionInfo{Name: "s", Hostname: "h", TracePath: "a/../.."}, `trace path "a/../.."`},
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

// TestSessionMisuse checks the arguments and states a session refuses,
// against a fake relay that accepts everything.
func TestSessionMisuse(t *testing.T) {
	p := newFakePeer(t, relayLike(version{2, 13}, codeOK), nil)
	s, err := Dial(context.Background(), p.u, SessionInfo{Name: "s", Hostname: "h", TraceUUID: testUUID})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID() != 7 || !regexp.MustCompile(`^h/s-[0-9]{8}-[0-9]{6}$`).MatchString(s.TracePath()) || s.URL() != p.u {
		t.Errorf("session id %d, path %q, url %v", s.ID(), s.TracePath(), s.URL())
	}
	for _, name := range []string{"", "metadata", "a/b", ".."} {
		if _, err := s.AddStream(name, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddStream(%q): %v, want ErrInvalid", name, err)
		}
	}
	st, err := s.AddStream("channel0_0", 0)
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 4096)
	for _, idx := range []PacketIndex{{ContentSize: 0}, {ContentSize: 4097}} {
		err := st.SendPacket(pkt, idx)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("SendPacket with content size %d: %v, want ErrInvalid", idx.ContentSize, err)
		}
		wantOneLine(t, err, p.u.String(), `"channel0_0"`)
	}
	if err := s.SendMetadata([]byte("/* CTF 1.8 */\nfirst")); err != nil {
		t.Fatal(err)
	}
	if err := s.SendMetadata([]byte("/* CTF 1.8 */\nfirst, then more")); err != nil {
		t.Fatal(err)
	}
	if err := s.SendMetadata([]byte("/* CTF 1.8 */\nrewritten")); !errors.Is(err, ErrMetadataRewritten) {
		t.Errorf("rewritten metadata: %v, want ErrMetadataRewritten", err)
	}
	if err := st.SendPacket(pkt, PacketIndex{ContentSize: 100}); err != nil {
		t.Fatal(err)
	}
	if packets, bytes := s.Sent(); packets != 3 || bytes != 4096+2*metaHeaderSize+uint64(len("/* CTF 1.8 */\nfirst, then more")) {
		t.Errorf("Sent() = %d packets, %d bytes", packets, bytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.AddStream("channel0_1", 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("AddStream after Close: %v, want os.ErrClosed", err)
	}
	if err := st.SendPacket(pkt, PacketIndex{ContentSize: 100}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("SendPacket after Close: %v, want os.ErrClosed", err)
	}
	if _, err := st.SendBeacon(1); !errors.Is(err, os.ErrClosed) {
		t.Errorf("SendBeacon after Close: %v, want os.ErrClosed", err)
	}
	if err := s.StreamsSent(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("StreamsSent after Close: %v, want os.ErrClosed", err)
	}
}

// TestPacketFrames checks what SendPacket and SendBeacon put on the wire:
// the packet's content with its padding announced, sequence numbers from
// 0, the index fields in bits, and a beacon after a data-pending check.
func TestPacketFrames(t *testing.T) {
	type frame struct {
		cmd     uint32
		payload []byte
	}
	ctrlFrames := make(chan frame, 100)
	dataFrames := make(chan dataHeader, 100)
	ctrl := func(c net.Conn) {
		var handle uint64
		for {
			cmd, payload, ok := readCommand(c)
			if !ok {
				return
			}
			ctrlFrames <- frame{cmd, payload}
			switch cmd {
			case cmdVersion:
				c.Write(version{2, 13}.encode())
			case cmdCreateSession:
				c.Write(statusReply{ID: 1, Code: codeOK}.encode())
			case cmdAddStream:
				handle++
				c.Write(statusReply{ID: handle, Code: codeOK}.encode())
			case cmdDataPending:
				c.Write(encodeGeneric(0))
			default:
				c.Write(encodeGeneric(codeOK))
			}
		}
	}
	data := func(c net.Conn) {
		for {
			b := make([]byte, dataHeaderSize)
			if _, err := io.ReadFull(c, b); err != nil {
				return
			}
			h, _ := decodeDataHeader(b)
			if _, err := io.ReadFull(c, make([]byte, h.DataSize)); err != nil {
				return
			}
			dataFrames <- h
		}
	}
	p := newFakePeer(t, ctrl, data)
	s, err := Dial(context.Background(), p.u, SessionInfo{Name: "s", Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.AddStream("channel0_0", 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // version, create session, add metadata, add stream
		<-ctrlFrames
	}
	pkt := make([]byte, 4096)
	for i := range 3 {
		idx := PacketIndex{ContentSize: 72 + uint64(i), TimestampBegin: 10, TimestampEnd: 20, EventsDiscarded: 3, StreamInstanceID: 5, PacketSeqNum: 40 + uint64(i)}
		if err := st.SendPacket(pkt, idx); err != nil {
			t.Fatal(err)
		}
		h := <-dataFrames
		if want := (dataHeader{StreamID: 2, NetSeqNum: uint64(i), DataSize: uint32(idx.ContentSize), PaddingLen: 4096 - uint32(idx.ContentSize)}); h != want {
			t.Errorf("data header %+v, want %+v", h, want)
		}
		f := <-ctrlFrames
		x, _ := decodeIndex(f.payload)
		if want := (index{RelayStreamID: 2, NetSeqNum: uint64(i), PacketSizeBits: 4096 * 8, ContentSizeBits: idx.ContentSize * 8, TimestampBegin: 10, TimestampEnd: 20, EventsDiscarded: 3, StreamInstanceID: 5, PacketSeqNum: 40 + uint64(i)}); f.cmd != cmdSendIndex || x != want {
			t.Errorf("command %d, index %+v, want %+v", f.cmd, x, want)
		}
	}
	if sent, err := st.SendBeacon(99); err != nil || !sent {
		t.Fatalf("SendBeacon: %v, %v", sent, err)
	}
	if f := <-ctrlFrames; f.cmd != cmdDataPending {
		t.Errorf("beacon starts with command %d, want data pending", f.cmd)
	} else if q, _ := decodeStreamSeq(f.payload); q != (streamSeq{StreamID: 2, LastSeq: 2}) {
		t.Errorf("data pending %+v", q)
	}
	f := <-ctrlFrames
	x, _ := decodeIndex(f.payload)
	if want := (index{RelayStreamID: 2, NetSeqNum: noSeq, TimestampEnd: 99, StreamInstanceID: 5}); f.cmd != cmdSendIndex || x != want {
		t.Errorf("beacon: command %d, index %+v, want %+v", f.cmd, x, want)
	}
}
