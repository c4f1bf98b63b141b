package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodeRequest checks that DecodeRequest never panics and that what it accepts survives
// an encode/decode round trip unchanged.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"op":"status"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode accepted request: %v", err)
		}
		req2, err := DecodeRequest(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		enc2, err := json.Marshal(req2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzDecodeReply checks that DecodeReply never panics, that what it accepts survives an
// encode/decode round trip unchanged, and that Err agrees with OK.
func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"ok":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := DecodeReply(b)
		if err != nil {
			return
		}
		if (rep.Err() == nil) != rep.OK {
			t.Fatalf("Err() = %v for OK=%v", rep.Err(), rep.OK)
		}
		enc, err := json.Marshal(rep)
		if err != nil {
			t.Fatalf("encode accepted reply: %v", err)
		}
		rep2, err := DecodeReply(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		enc2, err := json.Marshal(rep2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed\n%s\n%s", enc, enc2)
		}
	})
}
