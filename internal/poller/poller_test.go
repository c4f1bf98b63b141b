package poller

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaitReadyWokenTimeout(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fds := []unix.PollFd{{Fd: int32(r.Fd()), Events: unix.POLLIN}}

	// Nothing ready: the timeout passes.
	if woken, err := p.Wait(fds, 20*time.Millisecond); woken || err != nil || fds[0].Revents != 0 {
		t.Fatalf("idle: woken %v err %v revents %#x", woken, err, fds[0].Revents)
	}
	// A ready descriptor.
	w.Write([]byte{1})
	if woken, err := p.Wait(fds, -1); woken || err != nil || fds[0].Revents&unix.POLLIN == 0 {
		t.Fatalf("ready: woken %v err %v revents %#x", woken, err, fds[0].Revents)
	}
	// Wake from another goroutine ends a wait with no timeout, and stays.
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.Wake()
	}()
	r.Read(make([]byte, 1))
	if woken, err := p.Wait(fds, -1); !woken || err != nil {
		t.Fatalf("wake: woken %v err %v", woken, err)
	}
	if !p.Woken() {
		t.Error("Woken after Wake is false")
	}
	if woken, _ := p.Wait(fds, -1); !woken {
		t.Error("a second Wait after Wake blocked or was not woken")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	p.Wake() // harmless after Close
}
