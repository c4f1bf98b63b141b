package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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

// maxMetadataDepth bounds the nesting of type declarations.
const maxMetadataDepth = 32

// ---- lexer ----

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokInt
	tokString
	tokPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, or the unescaped string literal
	num  uint64 // tokInt
	pos  int    // byte offset in the source
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of metadata"
	case tokInt:
		return "integer " + strconv.FormatUint(t.num, 10)
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

type tsdlLexer struct {
	src  []byte
	pos  int
	peek *token
}

func (l *tsdlLexer) errorf(pos int, format string, args ...any) *DecodeError {
	line := 1 + bytes.Count(l.src[:pos], []byte{'\n'})
	col := pos - bytes.LastIndexByte(l.src[:pos], '\n')
	return decodeErr("", int64(pos), ErrBadMetadata, "line %d col %d: %s", line, col, fmt.Sprintf(format, args...))
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func (l *tsdlLexer) skip() *DecodeError {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := bytes.Index(l.src[l.pos+2:], []byte("*/"))
			if end < 0 {
				return l.errorf(l.pos, "unterminated /* comment")
			}
			l.pos += 2 + end + 2
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			end := bytes.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end + 1
			}
		default:
			return nil
		}
	}
	return nil
}

func (l *tsdlLexer) next() (token, *DecodeError) {
	if l.peek != nil {
		t := *l.peek
		l.peek = nil
		return t, nil
	}
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		return token{kind: tokIdent, text: string(l.src[start:l.pos]), pos: start}, nil
	case isDigit(c):
		for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		lit := string(l.src[start:l.pos])
		digits := strings.TrimRight(lit, "uUlL")
		base := 10
		switch {
		case strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X"):
			base, digits = 16, digits[2:]
		case len(digits) > 1 && digits[0] == '0':
			base, digits = 8, digits[1:]
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil || strings.Contains(digits, "_") {
			return token{}, l.errorf(start, "bad integer literal %q", lit)
		}
		return token{kind: tokInt, num: n, text: lit, pos: start}, nil
	case c == '"':
		s, err := l.stringLit()
		if err != nil {
			return token{}, err
		}
		return token{kind: tokString, text: s, pos: start}, nil
	case c == ':' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '=':
		l.pos += 2
		return token{kind: tokPunct, text: ":=", pos: start}, nil
	case strings.IndexByte("{}[]();=.,-+<>:", c) >= 0:
		l.pos++
		return token{kind: tokPunct, text: string(c), pos: start}, nil
	}
	return token{}, l.errorf(start, "unexpected character %q", rune(c))
}

// stringLit reads a "…" literal with C escapes (as babeltrace2 does: \a \b
// \f \n \r \t \v \\ \' \" \?, up to three octal digits, \x and up to three
// hex digits).
func (l *tsdlLexer) stringLit() (string, *DecodeError) {
	start := l.pos
	l.pos++ // opening quote
	var b []byte
	for {
		if l.pos >= len(l.src) {
			return "", l.errorf(start, "unterminated string literal")
		}
		c := l.src[l.pos]
		l.pos++
		switch c {
		case '"':
			return string(b), nil
		case '\\':
			if l.pos >= len(l.src) {
				return "", l.errorf(start, "unterminated string literal")
			}
			e := l.src[l.pos]
			l.pos++
			switch e {
			case 'a':
				b = append(b, '\a')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'v':
				b = append(b, '\v')
			case '\\', '\'', '"', '?':
				b = append(b, e)
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for n := 1; n < 3 && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; n++ {
					v = v*8 + int(l.src[l.pos]-'0')
					l.pos++
				}
				b = append(b, byte(v))
			case 'x':
				v, n := 0, 0
				for ; n < 3 && l.pos < len(l.src); n++ {
					d, ok := hexDigit(l.src[l.pos])
					if !ok {
						break
					}
					v = v*16 + d
					l.pos++
				}
				if n == 0 {
					return "", l.errorf(l.pos-2, "\\x without hex digits in string literal")
				}
				b = append(b, byte(v))
			default:
				return "", l.errorf(l.pos-2, "unknown escape \\%c in string literal", e)
			}
		default:
			b = append(b, c)
		}
	}
}

func hexDigit(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// ---- syntax ----

type tsdlParser struct {
	lex       tsdlLexer
	aliases   map[string]*tsdlType
	depth     int
	clockName string // the declared clock, once the clock block is read
}

// tsdlType is a parsed type declaration.
type tsdlType struct {
	kind     tsdlKind
	pos      int
	size     int    // integer: bits
	align    int    // integer: bits; struct: explicit align() in bits, or 0
	signed   bool   // integer
	mapClock string // integer: clock name from map = clock.NAME.value
	fields   []tsdlField
}

type tsdlKind uint8

const (
	kindInt tsdlKind = iota + 1
	kindString
	kindStruct
)

type tsdlField struct {
	name   string
	pos    int
	typ    *tsdlType
	length int    // fixed array length, or -1
	seqLen string // sequence length field name, or ""
}

// attr is one "key = value;" entry of a block; value is a path (identifiers
// joined by '.'), an integer (neg set for a leading '-') or a string.
type attr struct {
	key  string
	pos  int
	val  token
	neg  bool
	path string // val was an identifier path
	typ  *tsdlType
}

func (p *tsdlParser) next() (token, *DecodeError) { return p.lex.next() }

func (p *tsdlParser) peek() (token, *DecodeError) {
	t, err := p.lex.next()
	if err != nil {
		return t, err
	}
	p.lex.peek = &t
	return t, nil
}

func (p *tsdlParser) errorf(pos int, format string, args ...any) *DecodeError {
	return p.lex.errorf(pos, format, args...)
}

func (p *tsdlParser) expect(text string) (token, *DecodeError) {
	t, err := p.next()
	if err != nil {
		return t, err
	}
	if t.kind != tokPunct || t.text != text {
		return t, p.errorf(t.pos, "expected %q, found %s", text, t.describe())
	}
	return t, nil
}

func (p *tsdlParser) ident() (token, *DecodeError) {
	t, err := p.next()
	if err != nil {
		return t, err
	}
	if t.kind != tokIdent {
		return t, p.errorf(t.pos, "expected an identifier, found %s", t.describe())
	}
	return t, nil
}

// path reads IDENT { '.' IDENT } after first.
func (p *tsdlParser) path(first token) (string, *DecodeError) {
	s := first.text
	for {
		t, err := p.peek()
		if err != nil {
			return "", err
		}
		if t.kind != tokPunct || t.text != "." {
			return s, nil
		}
		p.lex.peek = nil
		id, err := p.ident()
		if err != nil {
			return "", err
		}
		s += "." + id.text
	}
}

// block parses "{ entries } ;" of a trace/env/clock/stream/event block.
func (p *tsdlParser) block(what string) ([]attr, *DecodeError) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	var attrs []attr
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokPunct && t.text == "}" {
			break
		}
		if t.kind != tokIdent {
			return nil, p.errorf(t.pos, "in %s block: expected an attribute name or '}', found %s", what, t.describe())
		}
		key, err := p.path(t)
		if err != nil {
			return nil, err
		}
		op, err := p.next()
		if err != nil {
			return nil, err
		}
		a := attr{key: key, pos: t.pos}
		switch {
		case op.kind == tokPunct && op.text == "=":
			if err := p.value(&a); err != nil {
				return nil, err
			}
		case op.kind == tokPunct && op.text == ":=":
			if a.typ, err = p.typeSpec(); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(op.pos, "in %s block: expected '=' or ':=' after %s, found %s", what, key, op.describe())
		}
		if _, err := p.expect(";"); err != nil {
			return nil, err
		}
		for _, o := range attrs {
			if o.key == a.key {
				return nil, p.errorf(a.pos, "in %s block: %s set twice", what, a.key)
			}
		}
		attrs = append(attrs, a)
	}
	_, err := p.expect(";")
	return attrs, err
}

// value parses the right side of "key = value".
func (p *tsdlParser) value(a *attr) *DecodeError {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind == tokPunct && (t.text == "-" || t.text == "+") {
		a.neg = t.text == "-"
		if t, err = p.next(); err != nil {
			return err
		}
		if t.kind != tokInt {
			return p.errorf(t.pos, "expected an integer after the sign, found %s", t.describe())
		}
	}
	a.val = t
	switch t.kind {
	case tokInt, tokString:
		return nil
	case tokIdent:
		a.path, err = p.path(t)
		return err
	}
	return p.errorf(t.pos, "expected a value for %s, found %s", a.key, t.describe())
}

// typeSpec parses a type: integer {…}, string [{…}], struct {…} [align(N)],
// or a type alias name.
func (p *tsdlParser) typeSpec() (*tsdlType, *DecodeError) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tokIdent {
		return nil, p.errorf(t.pos, "expected a type, found %s", t.describe())
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxMetadataDepth {
		return nil, p.errorf(t.pos, "types nested more than %d deep", maxMetadataDepth)
	}
	switch t.text {
	case "integer":
		return p.integer(t.pos)
	case "string":
		ty := &tsdlType{kind: kindString, pos: t.pos}
		nt, err := p.peek()
		if err != nil {
			return nil, err
		}
		if nt.kind != tokPunct || nt.text != "{" {
			return ty, nil
		}
		attrs, err := p.attrList("string")
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if a.key != "encoding" {
				return nil, p.errorf(a.pos, "unknown string attribute %s", a.key)
			}
			if a.path != "UTF8" && a.path != "ASCII" {
				return nil, p.errorf(a.pos, "unsupported string encoding (want UTF8 or ASCII)")
			}
		}
		return ty, nil
	case "struct":
		return p.structType(t.pos)
	}
	if ty := p.aliases[t.text]; ty != nil {
		return ty, nil
	}
	return nil, p.errorf(t.pos, "unknown or unsupported type %q", t.text)
}

// attrList parses "{ key = value; … }" inside a type.
func (p *tsdlParser) attrList(what string) ([]attr, *DecodeError) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	var attrs []attr
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokPunct && t.text == "}" {
			return attrs, nil
		}
		if t.kind != tokIdent {
			return nil, p.errorf(t.pos, "in %s: expected an attribute name or '}', found %s", what, t.describe())
		}
		a := attr{key: t.text, pos: t.pos}
		if _, err := p.expect("="); err != nil {
			return nil, err
		}
		if err := p.value(&a); err != nil {
			return nil, err
		}
		if _, err := p.expect(";"); err != nil {
			return nil, err
		}
		for _, o := range attrs {
			if o.key == a.key {
				return nil, p.errorf(a.pos, "in %s: %s set twice", what, a.key)
			}
		}
		attrs = append(attrs, a)
	}
}

func (p *tsdlParser) integer(pos int) (*tsdlType, *DecodeError) {
	attrs, err := p.attrList("integer")
	if err != nil {
		return nil, err
	}
	ty := &tsdlType{kind: kindInt, pos: pos}
	alignSet := false
	for _, a := range attrs {
		switch a.key {
		case "size", "align":
			if a.val.kind != tokInt || a.neg || a.val.num == 0 || a.val.num > 64 {
				return nil, p.errorf(a.pos, "integer %s must be 1 to 64", a.key)
			}
			if a.key == "size" {
				ty.size = int(a.val.num)
			} else {
				ty.align, alignSet = int(a.val.num), true
			}
		case "signed":
			b, ok := boolValue(a)
			if !ok {
				return nil, p.errorf(a.pos, "integer signed must be true or false")
			}
			ty.signed = b
		case "byte_order":
			if a.path != "le" && a.path != "native" {
				return nil, p.errorf(a.pos, "unsupported integer byte_order (want le or native)")
			}
		case "base":
			switch {
			case a.val.kind == tokInt && (a.val.num == 2 || a.val.num == 8 || a.val.num == 10 || a.val.num == 16) && !a.neg:
			case a.path != "" && slices.Contains([]string{"decimal", "dec", "d", "i", "u", "hexadecimal", "hex", "x", "X", "p", "octal", "oct", "o", "binary", "b"}, a.path):
			default:
				return nil, p.errorf(a.pos, "bad integer base")
			}
		case "encoding":
			if a.path != "none" && a.path != "UTF8" && a.path != "ASCII" {
				return nil, p.errorf(a.pos, "bad integer encoding")
			}
		case "map":
			parts := strings.Split(a.path, ".")
			if len(parts) != 3 || parts[0] != "clock" || parts[2] != "value" {
				return nil, p.errorf(a.pos, "integer map must be clock.NAME.value")
			}
			ty.mapClock = parts[1]
		default:
			return nil, p.errorf(a.pos, "unknown integer attribute %s", a.key)
		}
	}
	if ty.size == 0 {
		return nil, p.errorf(pos, "integer without size")
	}
	if !alignSet {
		ty.align = 1
		if ty.size%8 == 0 {
			ty.align = 8
		}
	}
	return ty, nil
}

func boolValue(a attr) (bool, bool) {
	switch {
	case a.path == "true" || a.path == "TRUE" || a.val.kind == tokInt && a.val.num == 1 && !a.neg:
		return true, true
	case a.path == "false" || a.path == "FALSE" || a.val.kind == tokInt && a.val.num == 0:
		return false, true
	}
	return false, false
}

// structType parses "{ TYPE NAME [ '[' N|LEN ']' ] ; … } [align(N)]".
func (p *tsdlParser) structType(pos int) (*tsdlType, *DecodeError) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	ty := &tsdlType{kind: kindStruct, pos: pos}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == tokPunct && t.text == "}" {
			p.lex.peek = nil
			break
		}
		ft, err := p.typeSpec()
		if err != nil {
			return nil, err
		}
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		f := tsdlField{name: name.text, pos: name.pos, typ: ft, length: -1}
		t, err = p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokPunct && t.text == "[" {
			lt, err := p.next()
			if err != nil {
				return nil, err
			}
			switch lt.kind {
			case tokInt:
				if lt.num > math.MaxInt32 {
					return nil, p.errorf(lt.pos, "array length %d too large", lt.num)
				}
				f.length = int(lt.num)
			case tokIdent:
				if f.seqLen, err = p.path(lt); err != nil {
					return nil, err
				}
			default:
				return nil, p.errorf(lt.pos, "expected an array length, found %s", lt.describe())
			}
			if _, err := p.expect("]"); err != nil {
				return nil, err
			}
			if t, err = p.next(); err != nil {
				return nil, err
			}
		}
		if t.kind != tokPunct || t.text != ";" {
			return nil, p.errorf(t.pos, "expected ';' after field %s, found %s", f.name, t.describe())
		}
		for _, o := range ty.fields {
			if o.name == f.name {
				return nil, p.errorf(f.pos, "duplicate field %s", f.name)
			}
		}
		ty.fields = append(ty.fields, f)
	}
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokIdent && t.text == "align" {
		p.lex.peek = nil
		if _, err := p.expect("("); err != nil {
			return nil, err
		}
		n, err := p.next()
		if err != nil {
			return nil, err
		}
		if n.kind != tokInt || n.num == 0 || n.num > 4096 || n.num&(n.num-1) != 0 {
			return nil, p.errorf(n.pos, "struct align must be a power of two up to 4096 bits")
		}
		ty.align = int(n.num)
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	return ty, nil
}

// ---- document ----

type tsdlDoc struct {
	trace, env, clock, stream []attr
	tracePos, envPos          int
	clockPos, streamPos       int
	events                    [][]attr
	eventPos                  []int
}

func (p *tsdlParser) document() (*tsdlDoc, *DecodeError) {
	d := &tsdlDoc{}
	seen := map[string]bool{}
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokEOF {
			return d, nil
		}
		if t.kind != tokIdent {
			return nil, p.errorf(t.pos, "expected a declaration, found %s", t.describe())
		}
		switch t.text {
		case "typealias":
			ty, err := p.typeSpec()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(":="); err != nil {
				return nil, err
			}
			name, err := p.ident()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(";"); err != nil {
				return nil, err
			}
			if p.aliases[name.text] != nil {
				return nil, p.errorf(name.pos, "type alias %s declared twice", name.text)
			}
			p.aliases[name.text] = ty
		case "trace", "env", "clock", "stream":
			if seen[t.text] {
				return nil, p.errorf(t.pos, "second %s block (only one is supported)", t.text)
			}
			seen[t.text] = true
			attrs, err := p.block(t.text)
			if err != nil {
				return nil, err
			}
			switch t.text {
			case "trace":
				d.trace, d.tracePos = attrs, t.pos
			case "env":
				d.env, d.envPos = attrs, t.pos
			case "clock":
				d.clock, d.clockPos = attrs, t.pos
			case "stream":
				d.stream, d.streamPos = attrs, t.pos
			}
		case "event":
			attrs, err := p.block("event")
			if err != nil {
				return nil, err
			}
			d.events = append(d.events, attrs)
			d.eventPos = append(d.eventPos, t.pos)
		default:
			return nil, p.errorf(t.pos, "unsupported declaration %q", t.text)
		}
	}
}

// ---- semantics ----

// packetizedMagic starts each packet of LTTng's binary-packetized metadata.
const packetizedMagic = 0x75D11D57

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

func (p *tsdlParser) traceBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	var major, minor, uuid, order, header bool
	for _, a := range d.trace {
		switch a.key {
		case "major", "minor":
			want := uint64(1)
			if a.key == "minor" {
				want = 8
			}
			if a.val.kind != tokInt || a.neg || a.val.num != want {
				return p.errorf(a.pos, "trace %s must be %d (CTF 1.8)", a.key, want)
			}
			major = major || a.key == "major"
			minor = minor || a.key == "minor"
		case "uuid":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "trace uuid must be a string")
			}
			id, err := ParseUUID(a.val.text)
			if err != nil {
				return p.errorf(a.val.pos, "trace uuid: %v", err)
			}
			info.UUID, uuid = id, true
		case "byte_order":
			if a.path != "le" {
				return p.errorf(a.pos, "trace byte_order must be le")
			}
			order = true
		case scopePacketHeader:
			if err := p.checkScope(a.key, a, layoutScope(packetLayout, scopePacketHeader), 0); err != nil {
				return err
			}
			header = true
		default:
			return p.errorf(a.pos, "unknown trace attribute %s", a.key)
		}
	}
	switch {
	case !major || !minor:
		return p.errorf(d.tracePos, "trace block without major and minor")
	case !uuid:
		return p.errorf(d.tracePos, "trace block without uuid")
	case !order:
		return p.errorf(d.tracePos, "trace block without byte_order")
	case !header:
		return p.errorf(d.tracePos, "trace block without packet.header")
	}
	return nil
}

func (p *tsdlParser) envBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	var domain, tracer bool
	for _, a := range d.env {
		var s string
		switch {
		case a.val.kind == tokString:
			s = a.val.text
		case a.val.kind == tokInt && a.neg:
			if a.val.num > 1<<63 {
				return p.errorf(a.pos, "env %s out of range", a.key)
			}
			s = "-" + strconv.FormatUint(a.val.num, 10)
		case a.val.kind == tokInt:
			s = strconv.FormatUint(a.val.num, 10)
		default:
			return p.errorf(a.pos, "env %s must be a string or an integer", a.key)
		}
		if strings.Contains(a.key, ".") || tsdlReserved[a.key] {
			return p.errorf(a.pos, "bad env key %s", a.key)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return p.errorf(a.pos, "env %s contains NUL", a.key)
		}
		isNum := a.val.kind == tokInt
		switch a.key {
		case "domain":
			if s != Domain || isNum {
				return p.errorf(a.pos, "env domain is %q, not %q: not a lttng-xen trace", s, Domain)
			}
			domain = true
		case "tracer_name":
			if s != TracerName || isNum {
				return p.errorf(a.pos, "env tracer_name is %q, not %q: not a lttng-xen trace", s, TracerName)
			}
			tracer = true
		case "tracer_major", "tracer_minor", "tracer_patchlevel":
			if !isNum || (!a.neg && a.val.num > math.MaxInt64) {
				return p.errorf(a.pos, "env %s must be an integer", a.key)
			}
			n := int64(a.val.num)
			if a.neg {
				n = -n
			}
			switch a.key {
			case "tracer_major":
				info.TracerVersion.Major = n
			case "tracer_minor":
				info.TracerVersion.Minor = n
			default:
				info.TracerVersion.Patchlevel = n
			}
		case "hostname":
			if isNum {
				return p.errorf(a.pos, "env hostname must be a string")
			}
			info.Hostname = s
		default:
			if info.Env == nil {
				info.Env = map[string]string{}
			}
			info.Env[a.key] = s
		}
	}
	if !domain || !tracer {
		return p.errorf(d.envPos, "env without domain = %q and tracer_name = %q: not a lttng-xen trace", Domain, TracerName)
	}
	return nil
}

func (p *tsdlParser) clockBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	info.ClockFreq = ClockFreq
	var offsetPos int
	for _, a := range d.clock {
		uintVal := func() (uint64, *DecodeError) {
			if a.val.kind != tokInt || a.neg {
				return 0, p.errorf(a.pos, "clock %s must be a non-negative integer", a.key)
			}
			return a.val.num, nil
		}
		var err *DecodeError
		switch a.key {
		case "name":
			switch {
			case a.val.kind == tokString:
				info.ClockName = a.val.text
			case a.path != "" && !strings.Contains(a.path, "."):
				info.ClockName = a.path
			default:
				return p.errorf(a.pos, "clock name must be an identifier or a string")
			}
			if !isIdent(info.ClockName) || tsdlReserved[info.ClockName] {
				return p.errorf(a.pos, "clock name %q is not an identifier", info.ClockName)
			}
		case "uuid":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "clock uuid must be a string")
			}
			id, e := ParseUUID(a.val.text)
			if e != nil {
				return p.errorf(a.val.pos, "clock uuid: %v", e)
			}
			info.ClockUUID = id
		case "description":
			if a.val.kind != tokString {
				return p.errorf(a.pos, "clock description must be a string")
			}
			info.ClockDescription = a.val.text
			if strings.IndexByte(info.ClockDescription, 0) >= 0 {
				return p.errorf(a.pos, "clock description contains NUL")
			}
		case "freq":
			info.ClockFreq, err = uintVal()
			if err == nil && info.ClockFreq == 0 {
				err = p.errorf(a.pos, "clock freq must not be 0")
			}
		case "precision":
			info.ClockPrecision, err = uintVal()
		case "offset":
			info.ClockOffset, err = uintVal()
			offsetPos = a.pos
		case "offset_s":
			if a.val.kind != tokInt || a.val.num > math.MaxInt64 {
				return p.errorf(a.pos, "clock offset_s must be an integer")
			}
			info.ClockOffsetSec = int64(a.val.num)
			if a.neg {
				info.ClockOffsetSec = -info.ClockOffsetSec
			}
		case "absolute":
			if b, ok := boolValue(a); !ok {
				return p.errorf(a.pos, "clock absolute must be TRUE or FALSE")
			} else if b {
				return p.errorf(a.pos, "absolute clocks are not supported")
			}
		default:
			return p.errorf(a.pos, "unknown clock attribute %s", a.key)
		}
		if err != nil {
			return err
		}
	}
	if info.ClockName == "" {
		return p.errorf(d.clockPos, "clock without name")
	}
	if info.ClockOffset >= info.ClockFreq {
		return p.errorf(offsetPos, "clock offset %d is not below freq %d", info.ClockOffset, info.ClockFreq)
	}
	return nil
}

// structAlign returns a struct's alignment in bits.
func structAlign(ty *tsdlType) int {
	a := max(ty.align, 1)
	for _, f := range ty.fields {
		switch f.typ.kind {
		case kindInt:
			a = max(a, f.typ.align)
		case kindString:
			a = max(a, 8)
		case kindStruct:
			a = max(a, structAlign(f.typ))
		}
	}
	return a
}

// checkScope checks that a's type is a struct with exactly the fields of
// want (one scope of a fixed layout: [packetLayout], [eventHeaderLayout]),
// naturally aligned unsigned little-endian integers, whose struct alignment
// puts it at want's first offset (an alignment that must be exactly
// wantAlign bits when wantAlign != 0) and its fields at want's offsets.
func (p *tsdlParser) checkScope(name string, a attr, want []layoutField, wantAlign int) *DecodeError {
	ty := a.typ
	if ty == nil {
		return p.errorf(a.pos, "%s must be declared with ':='", name)
	}
	if ty.kind != kindStruct {
		return p.errorf(a.pos, "%s must be a struct", name)
	}
	at := want[0].off
	al := structAlign(ty)
	if wantAlign != 0 && al != wantAlign {
		return p.errorf(a.pos, "%s is aligned on %d bits, this layout needs %d", name, al, wantAlign)
	}
	if at*8%al != 0 {
		return p.errorf(a.pos, "%s is aligned on %d bits, so it cannot start at byte %d as this layout needs", name, al, at)
	}
	if len(ty.fields) != len(want) {
		return p.errorf(a.pos, "%s has %d fields, this layout needs %d (%s)", name, len(ty.fields), len(want), layoutNames(want))
	}
	off := at
	for i, f := range ty.fields {
		w := want[i]
		ft := f.typ
		switch {
		case f.name != w.name:
			return p.errorf(f.pos, "%s field %d is %s, this layout needs %s", name, i, f.name, w.name)
		case f.seqLen != "" || (w.array == 0) != (f.length < 0) || (w.array != 0 && f.length != w.array):
			return p.errorf(f.pos, "%s.%s has the wrong shape", name, f.name)
		case ft.kind != kindInt || ft.size != w.bits || ft.align != w.bits || ft.signed:
			return p.errorf(f.pos, "%s.%s must be an unsigned %d-bit integer aligned on %d bits", name, f.name, w.bits, w.bits)
		case w.clock && ft.mapClock == "":
			return p.errorf(f.pos, "%s.%s must be mapped to the clock", name, f.name)
		case !w.clock && ft.mapClock != "":
			return p.errorf(f.pos, "%s.%s must not be mapped to a clock", name, f.name)
		case ft.mapClock != "" && ft.mapClock != p.clockName:
			return p.errorf(f.pos, "%s.%s is mapped to clock %s, which is not declared", name, f.name, ft.mapClock)
		}
		if off = AlignUp(off, w.bits/8); off != w.off {
			return p.errorf(f.pos, "%s.%s falls at byte %d, this layout has it at %d", name, f.name, off, w.off)
		}
		off += w.size()
	}
	return nil
}

func (p *tsdlParser) streamBlock(d *tsdlDoc, info *TraceInfo) *DecodeError {
	p.clockName = info.ClockName
	var hdr, pctx bool
	for _, a := range d.stream {
		var err *DecodeError
		switch a.key {
		case "id":
			if a.val.kind != tokInt || a.neg || a.val.num != StreamID {
				return p.errorf(a.pos, "stream id must be %d", StreamID)
			}
		case scopeEventHeader:
			err, hdr = p.checkScope(a.key, a, eventHeaderLayout, RecordAlign*8), true
		case "event.context":
			// Traces written before Channel v2 carried cpu_id in every
			// record; the reader decodes only the packet-context layout.
			return p.errorf(a.pos, "stream event.context is not supported: this trace has the per-record cpu_id layout of lttng-xen before one stream per pCPU; cpu_id belongs in packet.context")
		case scopePacketContext:
			err, pctx = p.checkScope(a.key, a, layoutScope(packetLayout, scopePacketContext), 0), true
		default:
			return p.errorf(a.pos, "unknown stream attribute %s", a.key)
		}
		if err != nil {
			return err
		}
	}
	if !hdr || !pctx {
		return p.errorf(d.streamPos, "stream needs event.header and packet.context")
	}
	return nil
}

func (p *tsdlParser) eventBlocks(d *tsdlDoc) ([]*Event, *DecodeError) {
	events := make([]*Event, 0, len(d.events))
	ids := map[uint32]bool{}
	names := map[string]bool{}
	for i, attrs := range d.events {
		pos := d.eventPos[i]
		var (
			name   string
			id     uint64
			haveID bool
			fields []Field
		)
		for _, a := range attrs {
			switch a.key {
			case "name":
				if a.val.kind != tokString && (a.path == "" || strings.Contains(a.path, ".")) {
					return nil, p.errorf(a.pos, "event name must be a string")
				}
				name = a.val.text
			case "id":
				if a.val.kind != tokInt || a.neg || a.val.num > math.MaxUint32 {
					return nil, p.errorf(a.pos, "event id must be an integer from 0 to %d", uint32(math.MaxUint32))
				}
				id, haveID = a.val.num, true
			case "stream_id":
				if a.val.kind != tokInt || a.neg || a.val.num != StreamID {
					return nil, p.errorf(a.pos, "event stream_id must be %d", StreamID)
				}
			case "loglevel":
				if a.val.kind != tokInt {
					return nil, p.errorf(a.pos, "event loglevel must be an integer")
				}
			case "fields":
				var err *DecodeError
				if fields, err = p.payload(a); err != nil {
					return nil, err
				}
			default:
				return nil, p.errorf(a.pos, "unknown event attribute %s", a.key)
			}
		}
		if name == "" || !haveID {
			return nil, p.errorf(pos, "event without name or id")
		}
		if ids[uint32(id)] {
			return nil, p.errorf(pos, "duplicate event id %d", id)
		}
		if names[name] {
			return nil, p.errorf(pos, "duplicate event name %q", name)
		}
		ids[uint32(id)], names[name] = true, true
		e, err := NewEvent(uint32(id), name, fields)
		if err != nil {
			return nil, p.errorf(pos, "%v", err)
		}
		events = append(events, e)
	}
	slices.SortFunc(events, func(a, b *Event) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return events, nil
}

// payload converts an event's fields struct to fields, folding
// "uint32 _x_length; uint8 x[_x_length];" into one Bytes field x.
func (p *tsdlParser) payload(a attr) ([]Field, *DecodeError) {
	ty := a.typ
	if ty == nil || ty.kind != kindStruct {
		return nil, p.errorf(a.pos, "event fields must be a struct declared with ':='")
	}
	if al := structAlign(ty); al > RecordAlign*8 {
		return nil, p.errorf(a.pos, "event fields aligned on %d bits, at most %d supported", al, RecordAlign*8)
	}
	var fields []Field
	fs := ty.fields
	for i := 0; i < len(fs); i++ {
		f := fs[i]
		ft := f.typ
		if f.length < 0 && f.seqLen == "" && ft.kind == kindInt && i+1 < len(fs) && fs[i+1].seqLen == f.name {
			seq := fs[i+1]
			et := seq.typ
			if ft.size != 32 || ft.align != 32 || ft.signed || ft.mapClock != "" || f.name != bytesLengthName(seq.name) {
				return nil, p.errorf(f.pos, "sequence %s: length must be an unsigned 32-bit integer aligned on 32 bits named %s", seq.name, bytesLengthName(seq.name))
			}
			if et.kind != kindInt || et.size != 8 || et.align != 8 || et.signed || et.mapClock != "" {
				return nil, p.errorf(seq.pos, "sequence %s: elements must be unsigned 8-bit integers", seq.name)
			}
			fields = append(fields, Field{Name: seq.name, Type: Bytes})
			i++
			continue
		}
		if f.length >= 0 || f.seqLen != "" {
			return nil, p.errorf(f.pos, "field %s: arrays and sequences other than bytes (uint32 _NAME_length; uint8 NAME[_NAME_length];) are not supported", f.name)
		}
		switch ft.kind {
		case kindString:
			fields = append(fields, Field{Name: f.name, Type: String})
		case kindInt:
			if ft.align != ft.size || ft.mapClock != "" {
				return nil, p.errorf(f.pos, "field %s: integers must be aligned on their size and not mapped to a clock", f.name)
			}
			t := intType(ft.size, ft.signed)
			if t == 0 {
				return nil, p.errorf(f.pos, "field %s: %d-bit integers are not supported (want 8, 16, 32 or 64)", f.name, ft.size)
			}
			fields = append(fields, Field{Name: f.name, Type: t})
		default:
			return nil, p.errorf(f.pos, "field %s: nested structs are not supported", f.name)
		}
	}
	return fields, nil
}

func intType(bits int, signed bool) Type {
	var t Type
	switch bits {
	case 8:
		t = U8
	case 16:
		t = U16
	case 32:
		t = U32
	case 64:
		t = U64
	default:
		return 0
	}
	if signed {
		t += S8 - U8
	}
	return t
}
