package sockwait

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/poller"
)

// A socket that appears while Retry waits wakes it through inotify (no
// timer: the absent tries are followed by no back-off), and a refusing
// peer is retried after the back-off.
func TestRetry(t *testing.T) {
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	path := filepath.Join(t.TempDir(), "x.sock")
	tries, refusals := 0, 0
	go func() {
		time.Sleep(50 * time.Millisecond)
		ln, err := net.Listen("unix", path)
		if err == nil {
			t.Cleanup(func() { ln.Close() })
		}
	}()
	err = Retry(path, p, nil, func() Result {
		tries++
		c, err := net.Dial("unix", path)
		if err != nil {
			return Absent(err)
		}
		c.Close()
		if refusals < 2 {
			refusals++
			return Refused(errors.New("busy"))
		}
		return Done(nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	// One absent try, a wake on the socket's creation (maybe two events),
	// two refusals, one success.
	if tries < 4 || tries > 6 {
		t.Errorf("%d tries", tries)
	}
}

func TestRetryStopped(t *testing.T) {
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Wake()
	}()
	err = Retry(filepath.Join(t.TempDir(), "never.sock"), p, nil, func() Result { return Absent(errors.New("absent")) })
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
	want := errors.New("final")
	if err := Retry(filepath.Join(t.TempDir(), "x"), p, nil, func() Result { return Done(want) }); err != want {
		t.Errorf("Done's error: %v", err)
	}
}
