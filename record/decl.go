package record

import (
	"fmt"
	"strings"
)

// ParseDecl parses an event declaration such as
//
//	printk(string msg)
//	hypercall_entry(u64 op, u32 vcpu)
//	heartbeat()
//
// Types are u8, u16, u32, u64, s8, s16, s32, s64, string and bytes. Names
// follow the rules of [NewEvent]. Spaces, tabs and newlines may appear
// between tokens. Errors wrap [ErrBadDecl] and name the problem and its
// column (counted in bytes from 1).
func ParseDecl(decl string) (name string, fields []Field, err error) {
	p := declParser{s: decl}
	defer func() {
		if err != nil {
			name, fields = "", nil
		}
	}()
	word, col := p.word()
	if word == "" {
		return "", nil, p.errorf(col, "expected an event name")
	}
	if err := checkName("event name", word); err != nil {
		return "", nil, p.wrap(col, err)
	}
	name = word
	if !p.punct('(') {
		return "", nil, p.errorf(p.col(), "expected '(' after the event name, found %s", p.found())
	}
	if p.punct(')') {
		return name, nil, p.end()
	}
	seen := map[string]bool{}
	for {
		tname, tcol := p.word()
		if tname == "" {
			return "", nil, p.errorf(tcol, "expected a field type, found %s", p.found())
		}
		typ, ok := TypeByName(tname)
		if !ok {
			return "", nil, p.errorf(tcol, "unknown type %q (want u8, u16, u32, u64, s8, s16, s32, s64, string or bytes)", tname)
		}
		fname, fcol := p.word()
		if fname == "" {
			return "", nil, p.errorf(fcol, "expected a field name after type %s, found %s", tname, p.found())
		}
		if err := checkName("field name", fname); err != nil {
			return "", nil, p.wrap(fcol, err)
		}
		if seen[fname] {
			return "", nil, p.errorf(fcol, "duplicate field name %q", fname)
		}
		seen[fname] = true
		if len(fields) == MaxFields {
			return "", nil, p.errorf(fcol, "more than %d fields", MaxFields)
		}
		fields = append(fields, Field{Name: fname, Type: typ})
		if p.punct(')') {
			return name, fields, p.end()
		}
		if !p.punct(',') {
			return "", nil, p.errorf(p.col(), "expected ',' or ')' after field %s, found %s", fname, p.found())
		}
	}
}

type declParser struct {
	s   string
	pos int
}

func (p *declParser) skipSpace() {
	for p.pos < len(p.s) && isDeclSpace(p.s[p.pos]) {
		p.pos++
	}
}

func isDeclSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDeclPunct(c byte) bool { return c == '(' || c == ')' || c == ',' }

func (p *declParser) col() int { p.skipSpace(); return p.pos + 1 }

// word returns the next run of characters that are neither space nor
// punctuation (possibly not an identifier: the caller checks), and its column.
func (p *declParser) word() (string, int) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && !isDeclSpace(p.s[p.pos]) && !isDeclPunct(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos], start + 1
}

// punct consumes c if it is the next non-space character.
func (p *declParser) punct(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// found describes the next token for an error message.
func (p *declParser) found() string {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return "end of input"
	}
	if isDeclPunct(p.s[p.pos]) {
		return fmt.Sprintf("%q", p.s[p.pos:p.pos+1])
	}
	save := p.pos
	w, _ := p.word()
	p.pos = save
	return fmt.Sprintf("%q", w)
}

func (p *declParser) end() error {
	p.skipSpace()
	if p.pos != len(p.s) {
		return p.errorf(p.pos+1, "unexpected %s after ')'", p.found())
	}
	return nil
}

func (p *declParser) context() string {
	const max = 80
	if len(p.s) > max {
		return fmt.Sprintf("%q…", p.s[:max])
	}
	return fmt.Sprintf("%q", p.s)
}

func (p *declParser) errorf(col int, format string, args ...any) error {
	return fmt.Errorf("%w: %s: column %d: %s", ErrBadDecl, p.context(), col, fmt.Sprintf(format, args...))
}

// wrap adds the declaration and column to err, which already wraps ErrBadDecl.
func (p *declParser) wrap(col int, err error) error {
	msg := strings.TrimPrefix(err.Error(), ErrBadDecl.Error()+": ")
	return fmt.Errorf("%w: %s: column %d: %s", ErrBadDecl, p.context(), col, msg)
}
