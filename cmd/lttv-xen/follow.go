package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"github.com/lttng-xen/lttng-xen/record"
)

// dump --follow: print the events of a trace being written.
//
// lttd-xen appends whole packets to the stream file (one writev per batch,
// which a reader may see half done) and, before it writes a packet that
// uses an event type added at run time, replaces the metadata by rename. So
// each time the directory changes, the follower
//
//  1. notes the size of every stream file,
//  2. re-reads the metadata if it is not the file read last time (after 1:
//     metadata read now declares every event of the bytes measured in 1),
//  3. decodes every stream, in [record.Tail] mode, up to the end of the
//     last packet each file holds whole, and prints their events merged by
//     timestamp ([record.Merger]; one stream per pCPU: a stream file that
//     appears when a pCPU comes online joins the merge),
//
// then sleeps until the next change ([watcher]: inotify, no polling).

// errWoken: [watcher.wait] returned because [watcher.wake] was called.
var errWoken = errors.New("watch woken")

// change is what one [watcher.wait] saw.
type change struct {
	names    []string // files created or renamed into the directory
	overflow bool     // events were lost: look at everything again
	gone     bool     // the directory was deleted or moved away
}

// cancelCheck is how many records follow decodes between two looks at
// its context, so that a signal stops it promptly in a large trace.
const cancelCheck = 4096

// follow prints the events of the trace in dir as they are written, until
// SIGINT, SIGTERM or t.ctx ends it (nil: exit 0) or the trace turns out
// damaged (the *record.DecodeError).
func (t *tool) follow(dir string, raw bool) (err error) {
	ctx, stop := signal.NotifyContext(t.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fl, err := newFollower(dir, raw, t.stdout)
	if err != nil {
		return err
	}
	defer fl.close()
	w, err := newWatcher(dir)
	if err != nil {
		return err
	}
	// The goroutine that turns the context's end into a wakeup is gone
	// before the watcher's descriptors are closed.
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		select {
		case <-ctx.Done():
			w.wake()
		case <-done:
		}
	})
	defer func() {
		close(done)
		wg.Wait()
		if cerr := w.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	// The watch is in place before the first look: a change made after
	// it either is seen by that look or wakes the wait. The first look
	// lists the stream files again, for those created before the watch.
	rescan := true
	for {
		if err := fl.catchUp(ctx, rescan); err != nil || ctx.Err() != nil {
			return err
		}
		c, err := w.wait()
		switch {
		case errors.Is(err, errWoken):
			return nil
		case err != nil:
			return err
		case c.gone:
			return fmt.Errorf("%s: the trace directory was removed or moved away", dir)
		}
		rescan = c.overflow || slices.ContainsFunc(c.names, record.IsStreamFile)
	}
}

// follower is the state of dump --follow: the trace as last read, the
// streams being followed, the output. Used by one goroutine.
type follower struct {
	dir     string
	tr      *record.Trace
	meta    os.FileInfo // the metadata file tr was read from
	streams []*followed // in the order they were found
	merge   *record.Merger
	sizes   []int64 // scratch: the streams' sizes at the last look
	f       lineFormatter
	out     *bufio.Writer
	rec     record.Record
	line    []byte
}

// followed is one stream file being followed.
type followed struct {
	file *os.File
	r    *record.Reader
}

// newFollower reads the trace in dir (whose stream files may not exist
// yet) and opens its stream files.
func newFollower(dir string, raw bool, stdout io.Writer) (_ *follower, err error) {
	fl := &follower{dir: dir, out: bufio.NewWriterSize(stdout, dumpBufSize), merge: record.NewMerger(record.Tail)}
	defer func() {
		if err != nil {
			fl.close()
		}
	}()
	// Stat before reading: if the file is replaced in between, the next
	// look sees another file and reads it again (as it does if the stat
	// fails: openMetadata says why).
	fl.meta, _ = os.Stat(filepath.Join(dir, metadataFile))
	if fl.tr, err = openMetadata(dir); err != nil {
		return nil, err
	}
	fl.f = lineFormatter{raw: raw, time: timeFormatter{info: fl.tr.Info}}
	return fl, fl.addStreams(fl.tr.Streams)
}

// addStreams starts following the stream files of names not followed yet.
func (fl *follower) addStreams(names []string) error {
	for _, name := range names {
		if slices.ContainsFunc(fl.streams, func(s *followed) bool { return s.file.Name() == name }) {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open stream: %w", err)
		}
		r := fl.tr.NewReader(name, f, 0)
		fl.merge.Add(r)
		fl.streams = append(fl.streams, &followed{file: f, r: r})
	}
	return nil
}

// catchUp prints the events of every packet written since the last look.
// rescan: look for new stream files first.
func (fl *follower) catchUp(ctx context.Context, rescan bool) error {
	if rescan {
		names, err := record.ListStreams(fl.dir)
		if err != nil {
			return err
		}
		if err := fl.addStreams(names); err != nil {
			return err
		}
	}
	fl.sizes = fl.sizes[:0]
	for _, s := range fl.streams {
		st, err := s.file.Stat()
		if err != nil {
			return fmt.Errorf("stat stream: %w", err)
		}
		fl.sizes = append(fl.sizes, st.Size())
	}
	if err := fl.reloadMetadata(); err != nil {
		return err
	}
	err := fl.print(ctx)
	if ferr := fl.out.Flush(); err == nil && ferr != nil {
		err = writeError(ferr)
	}
	return err
}

// print decodes the records of every stream up to its size in fl.sizes,
// merged by timestamp, and prints them, stopping early if ctx ends.
func (fl *follower) print(ctx context.Context) error {
	for i, s := range fl.streams {
		s.r.Grow(fl.sizes[i])
	}
	for n := 1; ; n++ {
		if n%cancelCheck == 0 && ctx.Err() != nil {
			return nil
		}
		if err := fl.merge.NextInto(&fl.rec); err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		fl.line = fl.f.append(fl.line[:0], &fl.rec)
		if _, err := fl.out.Write(fl.line); err != nil {
			return writeError(err)
		}
	}
}

// reloadMetadata reads the metadata again if it is not the file read last
// time (lttd-xen replaces it by rename) and makes every Reader use it.
func (fl *follower) reloadMetadata() error {
	st, err := os.Stat(filepath.Join(fl.dir, metadataFile))
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if fl.meta != nil && os.SameFile(st, fl.meta) && st.Size() == fl.meta.Size() && st.ModTime().Equal(fl.meta.ModTime()) {
		return nil
	}
	tr, err := record.OpenTrace(fl.dir)
	if err != nil {
		return err
	}
	for _, s := range fl.streams {
		if err := s.r.SetTrace(tr); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(fl.dir, metadataFile), err)
		}
	}
	fl.tr, fl.meta = tr, st
	fl.f.time.info = tr.Info
	return nil
}

// close closes the stream files.
func (fl *follower) close() {
	for _, s := range fl.streams {
		s.file.Close()
	}
	fl.streams = nil
}
