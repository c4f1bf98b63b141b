package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// runMainEnv makes the test binary run lttv-xen's main instead of the
// tests (TestFollowProcess runs it as a real process, to signal it).
const runMainEnv = "LTTV_XEN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Args[0] = name
		main()
		return
	}
	os.Exit(m.Run())
}

// liveTrace is a trace a test writes step by step, as lttd-xen does: the
// metadata first (replaced by rename when it changes), then the stream
// file, appended to.
type liveTrace struct {
	t      *testing.T
	b      *traceBuilder
	dir    string
	events []*record.Event // those of the metadata written last
	// v1 is the records of the first metadata's event types; late those
	// of an event type the second metadata adds.
	v1, late     []written
	v1Len, total int64 // stream bytes of the v1 records, and of all
	written      int64 // stream bytes in the file
}

// newLiveTrace builds a stream of 5 packets of built-in events, then a
// packet with an event type added at run time, and writes the directory
// with the first metadata and an empty stream file.
func newLiveTrace(t *testing.T) *liveTrace {
	b := sampleTrace(t, 600)
	lt := &liveTrace{t: t, b: b, dir: t.TempDir(), events: b.tab.Events()}
	lt.v1, lt.v1Len = b.records, int64(len(b.stream))
	if _, _, err := b.tab.AddDecl("late_event(u32 x, string why)"); err != nil {
		t.Fatal(err)
	}
	b.add("late_event", 2, record.Uint(7), record.Str("added at run time"))
	b.add("printk", 0, record.Str("after it"))
	b.flush()
	lt.late, lt.total = b.records[len(lt.v1):], int64(len(b.stream))
	lt.writeMetadata(lt.events)
	writeFile(t, filepath.Join(lt.dir, "channel0_0"), nil)
	return lt
}

// writeMetadata replaces the metadata as lttd-xen does: a temporary file
// renamed over it.
func (lt *liveTrace) writeMetadata(events []*record.Event) {
	md, err := record.Metadata(lt.b.info, events)
	if err != nil {
		lt.t.Fatal(err)
	}
	tmp := filepath.Join(lt.dir, ".metadata.tmp")
	writeFile(lt.t, tmp, md)
	if err := os.Rename(tmp, filepath.Join(lt.dir, "metadata")); err != nil {
		lt.t.Fatal(err)
	}
}

// appendTo appends the stream's bytes up to offset end to the stream file
// in one write.
func (lt *liveTrace) appendTo(end int64) {
	f, err := os.OpenFile(filepath.Join(lt.dir, "channel0_0"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		lt.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(lt.b.stream[lt.written:end]); err != nil {
		lt.t.Fatal(err)
	}
	lt.written = end
}

// through returns the records of the packets that end at or before end.
func (lt *liveTrace) through(end int64) []written {
	var out []written
	for i, p := range lt.b.packets {
		if p.off+packetSize > end {
			break
		}
		k := 0
		for _, q := range lt.b.packets[:i] {
			k += q.records
		}
		out = append(out, lt.b.records[k:k+p.records]...)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits up to 10 s for get() to return want.
func waitFor(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := get()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after 10 s, have %d lines:\n%s\nwant %d lines:\n%s", what,
				strings.Count(got, "\n"), tail(got), strings.Count(want, "\n"), tail(want))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func tail(s string) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[max(0, len(lines)-4):], "")
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestFollow runs dump --follow in-process on a trace written step by step
// and checks each packet's lines appear once it is whole, new event types
// decode once the metadata is replaced, a stream file created later is
// followed, and cancelling (as SIGINT does) ends it with exit 0 and
// nothing left behind: no goroutine, no descriptor.
func TestFollow(t *testing.T) {
	lt := newLiveTrace(t)
	p := lt.b.packets
	// The signal package starts its watcher goroutine for good at the
	// first Notify: start it before counting goroutines.
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	signal.Stop(c)
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- cmdline.Run(newAppContext(ctx, &stdout, &stderr), []string{name, "dump", "--raw", "--follow", lt.dir})
	}()

	// A packet is printed when it is whole, not before.
	lt.appendTo(p[0].off + 100) // half a packet
	lt.appendTo(p[1].off + 30)  // packet 0 whole, half of 1's header
	waitFor(t, "packet 0", stdout.String, wantDump(lt.through(p[1].off), true))
	lt.appendTo(p[3].off + packetSize - 1) // up to the last byte of packet 3
	waitFor(t, "packets 1-2", stdout.String, wantDump(lt.through(p[3].off), true))
	lt.appendTo(lt.v1Len)
	waitFor(t, "every packet of the first metadata", stdout.String, wantDump(lt.v1, true))

	// An event type added at run time: the metadata is replaced first, then
	// the packet that uses it is written.
	lt.writeMetadata(lt.b.tab.Events())
	lt.appendTo(lt.total)
	all := wantDump(lt.b.records, true)
	waitFor(t, "the packet with the new event type", stdout.String, all)
	if !strings.Contains(all, " late_event x=7 why=\"added at run time\"\n") {
		t.Fatalf("test bug: no late_event line in\n%s", tail(all))
	}

	// A stream file created later is followed too.
	writeFile(t, filepath.Join(lt.dir, "channel0_1"), lt.b.stream[:p[1].off])
	waitFor(t, "the second stream file", stdout.String, all+wantDump(lt.through(p[1].off), true))

	cancel()
	select {
	case code := <-exit:
		if code != cmdline.ExitOK || stderr.String() != "" {
			t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dump --follow did not stop 10 s after its context was cancelled")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after dump --follow, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if n := openFDs(t); n != fds {
		t.Errorf("%d open descriptors after dump --follow, %d before", n, fds)
	}
}

// TestFollowDamage: damage in a followed trace ends dump --follow with the
// error, exit 1, after the events before it.
func TestFollowDamage(t *testing.T) {
	lt := newLiveTrace(t)
	p := lt.b.packets
	lt.appendTo(p[2].off)
	clear(lt.b.stream[p[2].off : p[2].off+packetSize])
	lt.appendTo(p[3].off)
	r := run(t, "dump", "--raw", "--follow", lt.dir)
	r.wantFail(t, cmdline.ExitError, filepath.Join(lt.dir, "channel0_0")+": offset ", ": bad packet magic")
	if want := wantDump(lt.through(p[2].off), true); r.stdout != want {
		t.Errorf("printed %d lines before the damage, want %d", strings.Count(r.stdout, "\n"), strings.Count(want, "\n"))
	}
}

// TestFollowProcess runs dump --follow as a real process: lines appear as
// packets land, and SIGINT or SIGTERM ends it with exit 0.
func TestFollowProcess(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			lt := newLiveTrace(t)
			p := lt.b.packets
			cmd := exec.Command(os.Args[0], "dump", "--raw", "--follow", lt.dir)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan string, 1024)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text() + "\n"
				}
				close(lines)
			}()
			// read waits for the lines of want.
			read := func(want []written) {
				t.Helper()
				for i, w := range want {
					select {
					case l := <-lines:
						if l != wantLine(w, true) {
							t.Fatalf("line %d: %q, want %q", i, l, wantLine(w, true))
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("line %d of %d did not come in 10 s; stderr: %s", i, len(want), stderr.String())
					}
				}
			}
			lt.appendTo(p[1].off + 200)
			read(lt.through(p[1].off))
			lt.appendTo(lt.v1Len)
			read(lt.through(lt.v1Len)[len(lt.through(p[1].off)):])
			lt.writeMetadata(lt.b.tab.Events())
			lt.appendTo(lt.total)
			read(lt.late)

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				for range lines { // drain to EOF, then wait
				}
				done <- cmd.Wait()
			}()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if errors.As(err, &ee) || err != nil {
					t.Fatalf("after %v: %v (stderr %q), want exit 0", sig, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after %v", sig)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q", stderr.String())
			}
		})
	}
}

// TestFollowNotATrace: dump --follow says what a directory lacks, as dump
// does, except stream files: it waits for them.
func TestFollowNotATrace(t *testing.T) {
	empty := t.TempDir()
	badMeta := sampleTrace(t, 10).write()
	writeFile(t, filepath.Join(badMeta, "metadata"), []byte("/* CTF 1.8 */\ntrace {"))
	for dir, want := range map[string]string{
		empty:                        empty + ": not a trace directory: no metadata file",
		filepath.Join(empty, "nope"): filepath.Join(empty, "nope") + ": no such trace directory",
		badMeta:                      filepath.Join(badMeta, "metadata") + ": offset ",
	} {
		r := run(t, "dump", "--follow", dir)
		r.wantFail(t, cmdline.ExitError, want)
	}

	// Metadata and no stream file yet: it waits for one.
	lt := newLiveTrace(t)
	if err := os.Remove(filepath.Join(lt.dir, "channel0_0")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- cmdline.Run(newAppContext(ctx, &stdout, &stderr), []string{name, "dump", "--raw", "--follow", lt.dir})
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting (the test passes either way)
	writeFile(t, filepath.Join(lt.dir, "channel0_0"), lt.b.stream[:lt.b.packets[1].off])
	waitFor(t, "a stream file created after the start", stdout.String, wantDump(lt.through(lt.b.packets[1].off), true))
	cancel()
	if code := <-exit; code != 0 || stderr.String() != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
