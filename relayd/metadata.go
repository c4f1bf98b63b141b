package relayd

import "encoding/binary"

// Metadata travels to the relay as CTF metadata packets, as LTTng's
// consumer sends it: the relay appends each packet to the trace's metadata
// file, and a live reader fetches the bytes as they arrive. Packetized
// metadata lets a reader decode text appended mid-trace (a plain-text
// stream must start with the "/* CTF 1.8" signature, which appended text
// lacks).
//
// Metadata packet header (CTF 1.8, section 7.1), in the trace's byte order
// (little-endian for lttng-xen traces):
const (
	metaMagic           uint32 = 0x75D11D57
	metaOffMagic               = 0  // u32
	metaOffUUID                = 4  // 16 bytes: the trace UUID
	metaOffChecksum            = 20 // u32, 0: none
	metaOffContent             = 24 // u32: content size in bits, header included
	metaOffPacket              = 28 // u32: packet size in bits
	metaOffCompression         = 32 // u8, 0: none
	metaOffEncryption          = 33 // u8, 0: none
	metaOffChecksumKind        = 34 // u8, 0: none
	metaOffMajor               = 35 // u8: 1
	metaOffMinor               = 36 // u8: 8
	metaHeaderSize             = 37

	// metaPacketSize bounds one metadata packet, as LTTng's 4 KiB
	// metadata sub-buffers do.
	metaPacketSize = 4096
)

// metadataPackets splits text into metadata packets of at most
// metaPacketSize bytes, each with no padding.
func metadataPackets(uuid [16]byte, text []byte) [][]byte {
	var pkts [][]byte
	for len(text) > 0 {
		n := min(len(text), metaPacketSize-metaHeaderSize)
		pkts = append(pkts, metadataPacket(uuid, text[:n]))
		text = text[n:]
	}
	return pkts
}

// metadataPacket returns one metadata packet holding text.
func metadataPacket(uuid [16]byte, text []byte) []byte {
	p := make([]byte, metaHeaderSize, metaHeaderSize+len(text))
	bits := uint32(metaHeaderSize+len(text)) * 8
	binary.LittleEndian.PutUint32(p[metaOffMagic:], metaMagic)
	copy(p[metaOffUUID:metaOffUUID+16], uuid[:])
	binary.LittleEndian.PutUint32(p[metaOffContent:], bits)
	binary.LittleEndian.PutUint32(p[metaOffPacket:], bits)
	p[metaOffMajor], p[metaOffMinor] = 1, 8
	return append(p, text...)
}

// metadataText returns the text of a stream of metadata packets, or
// errShortFrame (wrapped) when a packet is cut or its sizes are wrong.
func metadataText(b []byte) ([]byte, error) {
	var text []byte
	for len(b) > 0 {
		if len(b) < metaHeaderSize || binary.LittleEndian.Uint32(b) != metaMagic {
			return nil, errShort("metadata packet header", metaHeaderSize, len(b))
		}
		content := int(binary.LittleEndian.Uint32(b[metaOffContent:]) / 8)
		size := int(binary.LittleEndian.Uint32(b[metaOffPacket:]) / 8)
		if content < metaHeaderSize || size < content || size > len(b) {
			return nil, errShort("metadata packet", size, len(b))
		}
		text = append(text, b[metaHeaderSize:content]...)
		b = b[size:]
	}
	return text, nil
}
