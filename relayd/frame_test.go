package relayd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// The frame sizes are the packed C structures of lttng-tools 2.13.
func TestFrameSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"lttcomm_relayd_hdr", len(ctrlHeader{}.encode()), 24},
		{"lttcomm_relayd_data_hdr", len(dataHeader{}.encode()), 32},
		{"lttcomm_relayd_version", len(version{}.encode()), 8},
		{"lttcomm_relayd_create_session_2_4", createSessionSize, 255 + 64 + 4 + 4},
		{"lttcomm_relayd_add_stream_2_2", addStreamSize, 264 + 4096 + 8 + 8},
		{"lttcomm_relayd_index (2.8)", len(index{}.encode()), 80},
		{"lttcomm_relayd_close_stream", len(streamSeq{}.encode()), 16},
		{"lttcomm_relayd_status_session", len(statusReply{}.encode()), 12},
		{"lttcomm_relayd_generic_reply", len(encodeGeneric(0)), 4},
		{"metadata payload header", len(metadataPayload(0, nil)), 12},
		{"metadata packet header", len(metadataPacket([16]byte{}, nil)), 37},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// The encoders put each field big-endian at its offset.
func TestFrameLayout(t *testing.T) {
	b := command(cmdAddStream, []byte{0xaa})
	if want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xaa}; !bytes.Equal(b, want) {
		t.Errorf("command: % x\nwant % x", b, want)
	}
	d := dataHeader{StreamID: 0x0102, NetSeqNum: 0x0304, DataSize: 0x0506, PaddingLen: 0x0708}.encode()
	if want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8}; !bytes.Equal(d, want) {
		t.Errorf("data header: % x\nwant % x", d, want)
	}
	c, err := createSession{Name: "sess", Hostname: "host", LiveTimerUS: 0x01020304, Snapshot: true}.encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(c[:5]) != "sess\x00" || string(c[255:260]) != "host\x00" ||
		binary.BigEndian.Uint32(c[319:]) != 0x01020304 || binary.BigEndian.Uint32(c[323:]) != 1 {
		t.Errorf("create session: % x", c)
	}
	a, err := addStream{Channel: "channel0_1", Path: "h/s", TracefileSize: 9, TracefileCount: 3}.encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(a[:11]) != "channel0_1\x00" || string(a[264:268]) != "h/s\x00" ||
		binary.BigEndian.Uint64(a[4360:]) != 9 || binary.BigEndian.Uint64(a[4368:]) != 3 {
		t.Errorf("add stream: % x", a[:16])
	}
	x := index{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}.encode()
	for i := range 10 {
		if v := binary.BigEndian.Uint64(x[8*i:]); v != uint64(i+1) {
			t.Errorf("index field %d = %d, want %d", i, v, i+1)
		}
	}
	m := metadataPayload(0x42, []byte("xy"))
	if binary.BigEndian.Uint64(m) != 0x42 || binary.BigEndian.Uint32(m[8:]) != 0 || string(m[12:]) != "xy" {
		t.Errorf("metadata payload: % x", m)
	}
}

func TestFrameStrings(t *testing.T) {
	for _, tc := range []struct {
		c    createSession
		want string
	}{
		{createSession{Name: strings.Repeat("n", 254), Hostname: "h"}, ""},
		{createSession{Name: strings.Repeat("n", 255), Hostname: "h"}, "session name"},
		{createSession{Name: "s", Hostname: strings.Repeat("h", 63)}, ""},
		{createSession{Name: "s", Hostname: strings.Repeat("h", 64)}, "hostname"},
		{createSession{Name: "a\x00b", Hostname: "h"}, "NUL"},
	} {
		_, err := tc.c.encode()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%d-byte name, %d-byte host: %v", len(tc.c.Name), len(tc.c.Hostname), err)
		case tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%d-byte name, %d-byte host: %v, want ErrInvalid about %s", len(tc.c.Name), len(tc.c.Hostname), err, tc.want)
		}
	}
	if _, err := (addStream{Channel: strings.Repeat("c", 264), Path: "p"}).encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("264-byte stream name: %v", err)
	}
	if _, err := (addStream{Channel: "c", Path: strings.Repeat("p", 4096)}).encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("4096-byte path: %v", err)
	}
}

// Decoding what an encoder wrote gives back its fields.
func TestFrameRoundTrip(t *testing.T) {
	c := createSession{Name: "auto-20261202-184500", Hostname: "xen1", LiveTimerUS: 1e6}
	cb, _ := c.encode()
	if got, err := decodeCreateSession(cb); err != nil || got != c {
		t.Errorf("create session: %+v, %v", got, err)
	}
	a := addStream{Channel: "channel0_7", Path: "xen1/s", TracefileSize: 1 << 20}
	ab, _ := a.encode()
	if got, err := decodeAddStream(ab); err != nil || got != a {
		t.Errorf("add stream: %+v, %v", got, err)
	}
	d := dataHeader{StreamID: 3, NetSeqNum: 1 << 40, DataSize: 4000, PaddingLen: 96}
	if got, err := decodeDataHeader(d.encode()); err != nil || got != d {
		t.Errorf("data header: %+v, %v", got, err)
	}
	x := index{RelayStreamID: 3, NetSeqNum: 9, PacketSizeBits: 32768, ContentSizeBits: 800, TimestampBegin: 5, TimestampEnd: 6, EventsDiscarded: 7, StreamInstanceID: 2, PacketSeqNum: 9}
	if got, err := decodeIndex(x.encode()); err != nil || got != x {
		t.Errorf("index: %+v, %v", got, err)
	}
	text := []byte(strings.Repeat("event { name = x; };\n", 500)) // several packets
	var stream []byte
	pkts := metadataPackets(testUUID, text)
	if len(pkts) < 2 {
		t.Fatalf("%d bytes of text made %d packets", len(text), len(pkts))
	}
	for _, p := range pkts {
		if len(p) > metaPacketSize || !bytes.Equal(p[metaOffUUID:metaOffUUID+16], testUUID[:]) {
			t.Errorf("metadata packet of %d bytes, uuid % x", len(p), p[metaOffUUID:metaOffUUID+16])
		}
		stream = append(stream, p...)
	}
	if got, err := metadataText(stream); err != nil || !bytes.Equal(got, text) {
		t.Errorf("metadata text: %d bytes, %v", len(got), err)
	}
}

// Decoders given too few bytes fail with errShortFrame.
func TestFrameShort(t *testing.T) {
	for name, decode := range map[string]func([]byte) error{
		"ctrl header":    func(b []byte) error { _, err := decodeCtrlHeader(b); return err },
		"data header":    func(b []byte) error { _, err := decodeDataHeader(b); return err },
		"version":        func(b []byte) error { _, err := decodeVersion(b); return err },
		"create session": func(b []byte) error { _, err := decodeCreateSession(b); return err },
		"add stream":     func(b []byte) error { _, err := decodeAddStream(b); return err },
		"index":          func(b []byte) error { _, err := decodeIndex(b); return err },
		"stream seq":     func(b []byte) error { _, err := decodeStreamSeq(b); return err },
		"status":         func(b []byte) error { _, err := decodeStatusReply(b); return err },
		"generic":        func(b []byte) error { _, err := decodeGeneric(b); return err },
		"metadata":       func(b []byte) error { _, _, err := decodeMetadataPayload(b); return err },
		"metadata text":  func(b []byte) error { _, err := metadataText(b); return err },
	} {
		if err := decode([]byte{1, 2, 3}); !errors.Is(err, errShortFrame) {
			t.Errorf("%s of 3 bytes: %v", name, err)
		}
	}
}

// FuzzFrames feeds arbitrary bytes to every decoder (none may panic) and
// checks that re-encoding what decodes gives the same bytes back.
func FuzzFrames(f *testing.F) {
	cb, _ := createSession{Name: "s", Hostname: "h", LiveTimerUS: 1}.encode()
	ab, _ := addStream{Channel: "c", Path: "p"}.encode()
	for _, seed := range [][]byte{
		command(cmdVersion, version{2, 8}.encode()), dataHeader{StreamID: 1}.encode(), cb, ab,
		index{RelayStreamID: 1}.encode(), streamSeq{1, 2}.encode(), metadataPacket(testUUID, []byte("/* CTF 1.8 */")),
		{}, {0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decodeDataHeader(b); err == nil && !bytes.Equal(h.encode()[8:], b[8:dataHeaderSize]) {
			t.Errorf("data header % x re-encodes differently", b[:dataHeaderSize])
		}
		if x, err := decodeIndex(b); err == nil && !bytes.Equal(x.encode(), b[:indexSize]) {
			t.Errorf("index re-encodes differently")
		}
		if s, err := decodeStreamSeq(b); err == nil && !bytes.Equal(s.encode(), b[:closeStreamSize]) {
			t.Errorf("stream seq re-encodes differently")
		}
		if v, err := decodeVersion(b); err == nil && !bytes.Equal(v.encode(), b[:versionSize]) {
			t.Errorf("version re-encodes differently")
		}
		if c, err := decodeCreateSession(b); err == nil {
			// Strings stop at their NUL: re-encoding round-trips the fields.
			if cb, err := c.encode(); err == nil {
				if c2, _ := decodeCreateSession(cb); c2 != c {
					t.Errorf("create session %+v became %+v", c, c2)
				}
			}
		}
		if a, err := decodeAddStream(b); err == nil {
			if ab, err := a.encode(); err == nil {
				if a2, _ := decodeAddStream(ab); a2 != a {
					t.Errorf("add stream %+v became %+v", a, a2)
				}
			}
		}
		decodeCtrlHeader(b)
		decodeStatusReply(b)
		decodeGeneric(b)
		decodeMetadataPayload(b)
		if text, err := metadataText(b); err == nil {
			var again []byte
			for _, p := range metadataPackets([16]byte{}, text) {
				again = append(again, p...)
			}
			if t2, err := metadataText(again); err != nil || !bytes.Equal(t2, text) {
				t.Errorf("metadata text does not survive repacketizing: %v", err)
			}
		}
	})
}
