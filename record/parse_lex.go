package record

// The lexer: TSDL text into tokens. The first stage of ParseMetadata
// (parse.go).

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

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
