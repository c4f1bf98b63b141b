package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func pair(t *testing.T) (a, b *Conn) {
	t.Helper()
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// checkNoLeak fails the test if the descriptor count differs from before at cleanup.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := openFDs(t)
	t.Cleanup(func() {
		if after := openFDs(t); after != before {
			t.Errorf("open descriptors: %d before, %d after", before, after)
		}
	})
}

// sendRaw writes one packet with arbitrary bytes and descriptors, bypassing Send's checks.
func sendRaw(t *testing.T, c *Conn, b []byte, fds ...int) {
	t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := c.UnixConn().WriteMsgUnix(b, oob, nil); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

func TestSendRecvPipe(t *testing.T) {
	a, b := pair(t)
	r, w := pipe(t)
	if err := a.Send(&Reply{OK: true, MapID: 3}, int(r.Fd()), int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	var rep Reply
	files, err := b.Recv(&rep, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles(files)
	if !rep.OK || rep.MapID != 3 || len(files) != 2 {
		t.Fatalf("got %+v with %d files", rep, len(files))
	}
	// Write through the received write end, read through the received read end.
	if _, err := files[1].Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(files[0], buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}
	// And the received ends are the same pipe as ours.
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(files[0], buf[:1]); err != nil || buf[0] != 'x' {
		t.Fatalf("read %q, %v", buf[:1], err)
	}
}

// serve answers requests on c with handle until c closes.
func serve(t *testing.T, c *Conn, p *Protocol, handle func(*Request) error) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			req, err := c.RecvRequest(p)
			var re *RemoteError
			switch {
			case errors.As(err, &re):
				if err := c.ReplyError(err); err != nil {
					return
				}
				continue
			case err != nil:
				return
			}
			if err := handle(req); err != nil {
				if c.ReplyError(err) != nil {
					return
				}
			}
		}
	}()
}

func TestCallMapRoundTrip(t *testing.T) {
	client, server := pair(t)
	r, w := pipe(t)
	serve(t, server, Tools, func(req *Request) error {
		switch req.Op {
		case OpMap:
			return server.Reply(&Reply{MapID: 42}, int(r.Fd()), int(w.Fd()), int(r.Fd()))
		case OpStatus:
			return server.Reply(&Reply{Status: &Status{State: StateStarted, CPUsOnline: []int{0, 2}}})
		case OpStart:
			return fmt.Errorf("start in state %s: %w", StateStarted, ErrBadState)
		}
		return fmt.Errorf("op %s: %w", req.Op, ErrUnsupported)
	})

	rep, files, err := client.Call(&Request{Op: OpMap})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles(files)
	if rep.MapID != 42 || len(files) != 3 {
		t.Fatalf("map: %+v, %d files", rep, len(files))
	}
	if files[0].Name() != "control" || files[1].Name() != "consumer" || files[2].Name() != "buffer" {
		t.Errorf("file names %q, %q", files[0].Name(), files[1].Name())
	}
	if _, err := files[1].Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(files[0], buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}

	rep, files, err = client.Call(&Request{Op: OpStatus})
	if err != nil || len(files) != 0 {
		t.Fatalf("status: %v, %d files", err, len(files))
	}
	if rep.Status.State != StateStarted || len(rep.Status.CPUsOnline) != 2 {
		t.Fatalf("status %+v", rep.Status)
	}

	rep, files, err = client.Call(&Request{Op: OpStart})
	if !errors.Is(err, ErrBadState) || errors.Is(err, ErrNoTrace) {
		t.Fatalf("start: %v, want bad state", err)
	}
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeBadState || !strings.Contains(re.Msg, "start in state started") {
		t.Fatalf("start: %#v", err)
	}
	if rep == nil || rep.OK || files != nil {
		t.Fatalf("start: reply %+v, files %v", rep, files)
	}

	// A hypercall op on the tools' socket.
	_, _, err = client.Call(&Request{Op: OpTraceStart})
	if !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("trace_start on tools: %v", err)
	}
	// An invalid request is refused before sending.
	_, _, err = client.Call(&Request{Op: OpCreate})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("create without args: %v", err)
	}
}

func TestSendTooLarge(t *testing.T) {
	a, _ := pair(t)
	err := a.Send(&Request{Op: OpEventAdd, EventAdd: &EventAddArgs{Decl: strings.Repeat("x", MaxMessageSize)}})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("got %v", err)
	}
	fds := make([]int, MaxFDs+1)
	if err := a.Send(&Reply{OK: true}, fds...); !errors.Is(err, ErrFDCount) {
		t.Fatalf("too many fds: %v", err)
	}
}

func TestRecvTooLarge(t *testing.T) {
	checkNoLeak(t)
	a, b := pair(t)
	r, w := pipe(t)
	big := []byte(`{"op":"status","x":"` + strings.Repeat("y", MaxMessageSize) + `"}`)
	sendRaw(t, a, big, int(r.Fd()), int(w.Fd()))
	r.Close()
	w.Close()
	var req Request
	files, err := b.Recv(&req, 2)
	if !errors.Is(err, ErrMessageTooLarge) || files != nil {
		t.Fatalf("got %v, %v", files, err)
	}
	// The connection stays in step.
	if err := a.Send(&Request{Op: OpStatus}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RecvRequest(Tools); err != nil {
		t.Fatalf("after oversize: %v", err)
	}
}

func TestRecvGarbage(t *testing.T) {
	a, b := pair(t)
	for _, msg := range []string{
		`{"op":"sta`,
		`not json`,
		`null`,
		`[1,2]`,
		`"status"`,
		`{"op":5}`,
		`{"op":"unmap","unmap":{"map_id":-1}}`,
		`{"op":"unmap","unmap":{"map_id":1.5}}`,
		`{"op":"status"} trailing`,
		"\x00\xff\xfe",
	} {
		t.Run(msg, func(t *testing.T) {
			checkNoLeak(t)
			r, w := pipe(t)
			sendRaw(t, a, []byte(msg), int(r.Fd()))
			r.Close()
			w.Close()
			var req Request
			_, err := b.Recv(&req, 1)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	// RecvRequest reports a malformed message as a bad request and stays in step.
	sendRaw(t, a, []byte(`{"op":`))
	_, err := b.RecvRequest(Hypercalls)
	if !errors.Is(err, ErrBadRequest) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("RecvRequest: %v", err)
	}
	if err := b.ReplyError(err); err != nil {
		t.Fatal(err)
	}
	var rep Reply
	if _, err := a.Recv(&rep, 0); err != nil || rep.OK || rep.Code != CodeBadRequest {
		t.Fatalf("error reply %+v, %v", rep, err)
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	a, b := pair(t)
	sendRaw(t, a, []byte(`{"op":"trace_create","future":{"a":[1]},"create":{"subbuf_size":4096,"num_subbuf":4,"mode":"discard","switch_timer_ns":0,"extra":true}}`))
	req, err := b.RecvRequest(Hypercalls)
	if err != nil {
		t.Fatal(err)
	}
	if req.Create.SubbufSize != 4096 || req.Create.NumSubbuf != 4 {
		t.Fatalf("got %+v", req.Create)
	}
}

func TestFDCountViolation(t *testing.T) {
	t.Run("request with fds", func(t *testing.T) {
		checkNoLeak(t)
		a, b := pair(t)
		r, w := pipe(t)
		if err := a.Send(&Request{Op: OpStatus}, int(r.Fd()), int(w.Fd()), int(r.Fd())); err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Close()
		_, err := b.RecvRequest(Hypercalls)
		if !errors.Is(err, ErrFDCount) || !errors.Is(err, ErrBadRequest) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("recv over max", func(t *testing.T) {
		checkNoLeak(t)
		a, b := pair(t)
		r, w := pipe(t)
		if err := a.Send(&Reply{OK: true}, int(r.Fd()), int(w.Fd())); err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Close()
		var rep Reply
		files, err := b.Recv(&rep, 1)
		if !errors.Is(err, ErrFDCount) || files != nil {
			t.Fatalf("got %v, %v", files, err)
		}
	})
	t.Run("many fds", func(t *testing.T) {
		checkNoLeak(t)
		a, b := pair(t)
		r, w := pipe(t)
		fds := make([]int, MaxFDs)
		for i := range fds {
			fds[i] = int(r.Fd())
		}
		if err := a.Send(&Reply{OK: true}, fds...); err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Close()
		var rep Reply
		if _, err := b.Recv(&rep, 2); !errors.Is(err, ErrFDCount) {
			t.Fatalf("got %v", err)
		}
	})
	for _, tc := range []struct {
		name  string
		reply *Reply
		nfds  int
	}{
		{"map reply with one fd", &Reply{OK: true, MapID: 1}, 1},
		{"map reply with four fds", &Reply{OK: true, MapID: 1}, 4},
		{"failed reply with fds", ErrorReply(ErrNoTrace), 2},
		{"map reply without map id", &Reply{OK: true}, 3},
		{"ok reply with error text", &Reply{OK: true, MapID: 1, Error: "x"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkNoLeak(t)
			client, server := pair(t)
			r, w := pipe(t)
			done := make(chan error, 1)
			go func() {
				if _, err := server.RecvRequest(Tools); err != nil {
					done <- err
					return
				}
				fds := []int{int(r.Fd()), int(w.Fd()), int(r.Fd()), int(w.Fd())}[:tc.nfds]
				done <- server.Send(tc.reply, fds...)
			}()
			rep, files, err := client.Call(&Request{Op: OpMap})
			if serr := <-done; serr != nil {
				t.Fatal(serr)
			}
			r.Close()
			w.Close()
			if err == nil || files != nil || rep != nil {
				t.Fatalf("got %+v, %v, %v", rep, files, err)
			}
			if !errors.Is(err, ErrFDCount) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	a, _ := pair(t)
	if err := a.SetDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var rep Reply
	start := time.Now()
	_, err := a.Recv(&rep, 0)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// Call on a silent peer too.
	if err := a.SetDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Call(&Request{Op: OpStatus}); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("call: %v", err)
	}
}

func TestCloseAndEOF(t *testing.T) {
	a, b := pair(t)
	errc := make(chan error, 1)
	go func() {
		var rep Reply
		_, err := a.Recv(&rep, 0)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("pending recv: %v", err)
	}
	if err := a.Send(&Request{Op: OpStatus}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	var rep Reply
	if _, err := a.Recv(&rep, 0); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("recv after close: %v", err)
	}
	if _, err := b.Recv(&rep, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("peer recv: %v", err)
	}
	if err := b.Send(&Request{Op: OpStatus}); err == nil {
		t.Fatal("send to closed peer succeeded")
	}
}

func TestConcurrentSend(t *testing.T) {
	a, b := pair(t)
	const n = 200
	errc := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range n / 4 {
				if err := a.Send(&Request{Op: OpCPUOnline, CPU: &CPUArgs{CPU: g*1000 + i}}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	seen := map[int]bool{}
	for range n {
		req, err := b.RecvRequest(Hypercalls)
		if err != nil {
			t.Fatal(err)
		}
		seen[req.CPU.CPU] = true
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
}

func TestReplyDoesNotModify(t *testing.T) {
	a, b := pair(t)
	rep := &Reply{Error: "x", Code: CodeInternal, MapID: 9}
	if err := a.Reply(rep); err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Error != "x" {
		t.Fatalf("Reply modified its argument: %+v", rep)
	}
	var got Reply
	if _, err := b.Recv(&got, 0); err != nil {
		t.Fatal(err)
	}
	if !got.OK || got.Error != "" || got.Code != "" || got.MapID != 9 {
		t.Fatalf("got %+v", got)
	}
	if err := a.Reply(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Recv(&got, 0); err != nil || !got.OK {
		t.Fatalf("nil reply: %+v, %v", got, err)
	}
}

func TestSendEncodeError(t *testing.T) {
	a, _ := pair(t)
	if err := a.Send(func() {}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("encode")) {
		t.Fatalf("got %v", err)
	}
}
