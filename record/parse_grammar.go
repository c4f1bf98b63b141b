package record

// The grammar: tokens into a document (tsdlDoc), type aliases resolved.
// The second stage of ParseMetadata (parse.go); what the blocks mean is
// parse_check.go's.

import (
	"math"
	"slices"
	"strings"
)

// maxMetadataDepth bounds the nesting of type declarations.
const maxMetadataDepth = 32

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
