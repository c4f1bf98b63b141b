package hypervisor

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/record"
)

// Version is the tracer version written into the metadata's env.
var Version = record.TracerVersion{Major: 0, Minor: 1, Patchlevel: 0}

// initMetadata fixes the trace's metadata facts (UUID, clock offset,
// host) at creation; the event list is read from the table each time the
// metadata is generated, so run-time event types appear in it. With tsc
// set the clock is the TSC: its frequency, and its offset measured now.
func (t *Trace) initMetadata(table *record.Table, tsc *record.TSCClock) error {
	sec, ns, _ := record.ClockOffset()
	host, _ := os.Hostname()
	t.info = record.TraceInfo{
		UUID:           t.uuid,
		Hostname:       host,
		TracerVersion:  Version,
		ClockOffsetSec: sec,
		ClockOffset:    uint64(ns),
		Env: map[string]string{
			"trace_creation_datetime": t.created.UTC().Format("20060102T150405Z"),
		},
	}
	if id, err := record.BootID(); err == nil {
		t.info.ClockUUID = id
	}
	if tsc != nil {
		c := *tsc
		if err := c.SetOffset(); err != nil {
			return err
		}
		t.info = c.Apply(t.info)
	}
	_, err := record.Metadata(t.info, table.Events())
	return err
}

// Metadata returns the current TSDL text of the trace and its version, as
// a sealed read-only memfd: the text can outgrow a socket message, and a
// descriptor costs one round trip whatever its size.
func (h *Hypervisor) Metadata() (f *os.File, version uint64, err error) {
	h.mu.Lock()
	t, err := h.current()
	var events []*record.Event
	if err == nil {
		events, version = h.table.Snapshot()
	}
	h.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	text, err := record.Metadata(t.info, events)
	if err != nil {
		return nil, 0, fmt.Errorf("metadata: %w", err)
	}
	f, err = sealedFile("lttng-xen-metadata", text)
	return f, version, err
}

// sealedFile returns a memfd holding data that nobody can modify.
func sealedFile(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal %s: %w", name, err)
	}
	return f, nil
}
