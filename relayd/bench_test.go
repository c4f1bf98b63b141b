package relayd

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkSendPacket streams full packets to a local lttng-relayd, next
// to writing the same packets to a local file (the directory sink's cost).
// Numbers go to docs/PERFORMANCE.md, never into assertions.
func BenchmarkSendPacket(b *testing.B) {
	for _, size := range []int{4096, 64 << 10, 1 << 20} {
		pkt := make([]byte, size)
		idx := PacketIndex{ContentSize: uint64(size), TimestampBegin: 1, TimestampEnd: 2}
		b.Run(fmt.Sprintf("relay/%dKiB", size>>10), func(b *testing.B) {
			r := startRelay(b)
			s, err := Dial(b.Context(), r.url(b), SessionInfo{Name: "bench", Hostname: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			st, err := s.AddStream("channel0_0", 0)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := st.SendPacket(pkt, idx); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(fmt.Sprintf("file/%dKiB", size>>10), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "channel0_0"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Write(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
