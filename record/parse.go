package record

// The metadata parser works in three stages, one file each, as go/scanner,
// go/parser and go/types do for Go:
//
//   - parse_lex.go: the lexer, TSDL text into tokens (identifiers, integer
//     and string literals, punctuation), skipping whitespace and comments;
//   - parse_grammar.go: the grammar, tokens into a document (type aliases
//     resolved, each trace/env/clock/stream/event block a list of attributes,
//     types as trees), with no knowledge of what the blocks mean;
//   - parse_check.go: the semantic checks, the document into a [TraceInfo]
//     and events, checking the layout it declares against the one this
//     package writes (packetLayout, eventHeaderLayout) and decodes.
//
// ParseMetadata (here) drives them.

import (
	"bytes"
	"encoding/binary"
)

// ParseMetadata parses TSDL metadata text as [Metadata] writes it and returns
// the trace information and the events it declares, sorted by id. The parser
// reads the TSDL subset Metadata uses (type aliases, integer and string
// types, structs, fixed arrays and length-prefixed sequences, the trace,
// env, clock, stream and event blocks) with any whitespace and C or C++
// comments, and checks that the layout it describes is the one this package
// decodes (docs/ARCHITECTURE.md). Anything else is rejected, never guessed.
//
// Errors are [*DecodeError] values wrapping [ErrBadMetadata], with the byte offset
// of the offending token; the message gives its line and column.
func ParseMetadata(text []byte) (TraceInfo, []*Event, error) {
	p := &tsdlParser{lex: tsdlLexer{src: text}}
	info, events, err := p.parse()
	if err != nil {
		return TraceInfo{}, nil, err
	}
	return info, events, nil
}

// packetizedMagic starts each packet of LTTng's binary-packetized metadata.
const packetizedMagic = 0x75D11D57

// parse runs the stages: it refuses binary-packetized and non-1.8
// metadata from its first bytes, reads the whole document (lexer and
// grammar), then checks each block in turn (semantics).
func (p *tsdlParser) parse() (TraceInfo, []*Event, *DecodeError) {
	var info TraceInfo
	src := p.lex.src
	if len(src) >= 4 && (binary.LittleEndian.Uint32(src) == packetizedMagic || binary.BigEndian.Uint32(src) == packetizedMagic) {
		return info, nil, p.errorf(0, "packetized metadata is not supported (want plain TSDL text)")
	}
	if rest, ok := bytes.CutPrefix(src, []byte("/* CTF ")); ok && !bytes.HasPrefix(rest, []byte("1.8 ")) && !bytes.HasPrefix(rest, []byte("1.8*")) {
		return info, nil, p.errorf(0, "metadata is not CTF 1.8")
	}
	p.aliases = map[string]*tsdlType{}
	d, err := p.document()
	if err != nil {
		return info, nil, err
	}
	if d.trace == nil {
		return info, nil, p.errorf(len(src), "no trace block")
	}
	if err := p.traceBlock(d, &info); err != nil {
		return info, nil, err
	}
	if err := p.envBlock(d, &info); err != nil {
		return info, nil, err
	}
	if d.clock == nil {
		return info, nil, p.errorf(len(src), "no clock block")
	}
	if err := p.clockBlock(d, &info); err != nil {
		return info, nil, err
	}
	if d.stream == nil {
		return info, nil, p.errorf(len(src), "no stream block")
	}
	if err := p.streamBlock(d, &info); err != nil {
		return info, nil, err
	}
	events, err := p.eventBlocks(d)
	if err != nil {
		return info, nil, err
	}
	return info, events, nil
}
