package wire

import (
	"fmt"
	"slices"
)

// Protocol is the set of ops one server accepts. The values [Hypercalls] and [Tools] are the
// only ones; they are immutable and safe for concurrent use.
type Protocol struct {
	name string
	ops  []Op // sorted
}

func newProtocol(name string, ops ...Op) *Protocol {
	for _, op := range ops {
		if _, ok := opSpecs[op]; !ok {
			panic("wire: protocol " + name + ": op without spec: " + string(op))
		}
	}
	ops = slices.Clone(ops)
	slices.Sort(ops)
	return &Protocol{name: name, ops: ops}
}

// Name returns "hypercall" or "tools".
func (p *Protocol) Name() string { return p.name }

// Ops returns the protocol's ops, sorted.
func (p *Protocol) Ops() []Op { return slices.Clone(p.ops) }

// Has reports whether op belongs to the protocol.
func (p *Protocol) Has(op Op) bool {
	_, ok := slices.BinarySearch(p.ops, op)
	return ok
}

// ReplyFDs returns the number of file descriptors a successful reply to op carries (0 for an
// unknown op). Failed replies carry none.
func ReplyFDs(op Op) int { return len(opSpecs[op].replyFDs) }

// Validate checks that r's op belongs to p and then [Request.Validate]. Errors wrap
// [ErrUnknownOp] or [ErrBadRequest].
func (p *Protocol) Validate(r *Request) error {
	if !p.Has(r.Op) {
		return fmt.Errorf("op %q is not a %s op: %w", r.Op, p.name, ErrUnknownOp)
	}
	return r.Validate()
}
