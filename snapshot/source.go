package snapshot

import (
	"errors"
	"fmt"
	"io"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Source is a trace mapped as an observer: the control region and the
// buffer, read-only, and the metadata text.
type Source struct {
	Observer *shm.Observer
	Metadata []byte
	ctrl     *shm.Mapping
	buf      *shm.Mapping
}

// Open maps the trace through dom0's connection conn with the observer
// role (which never holds up the producer or the consumer) and fetches its
// metadata. The mapping is dom0's until conn closes.
func Open(conn *wire.Conn) (_ *Source, err error) {
	_, files, err := conn.Call(&wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleObserver}})
	if err != nil {
		return nil, fmt.Errorf("map the trace: %w", err)
	}
	s := &Source{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	if s.ctrl, err = shm.MapReadOnly(files[0]); err != nil {
		return nil, fmt.Errorf("map control region: %w", err)
	}
	files[0] = nil
	if s.buf, err = shm.MapReadOnly(files[2]); err != nil {
		return nil, fmt.Errorf("map buffer: %w", err)
	}
	files[2] = nil
	if s.Observer, err = shm.NewObserver(s.ctrl.Data, s.buf.Data); err != nil {
		return nil, err
	}
	_, mfiles, err := conn.Call(&wire.Request{Op: wire.OpMetadata})
	if err != nil {
		return nil, fmt.Errorf("fetch metadata: %w", err)
	}
	defer mfiles[0].Close()
	if s.Metadata, err = io.ReadAll(io.NewSectionReader(mfiles[0], 0, 1<<30)); err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	return s, nil
}

// UUID is the trace's UUID, from its control region.
func (s *Source) UUID() [16]byte { return s.Observer.Control().Info().UUID }

// Close unmaps. Idempotent.
func (s *Source) Close() error {
	return errors.Join(s.ctrl.Close(), s.buf.Close())
}
