// Package shm is the lttng-xen trace channel: one ring of sub-buffers per
// simulated pCPU ([Ring]; any number of concurrent writers, normally the
// pCPU's own), grouped in a [Channel] with a producer-owned control region,
// and one consumer process (lttd-xen) that reads every ring ([Consumer],
// [Stream]) and writes only its consumed offsets.
//
// The package is format-agnostic: it moves bytes and counts them. What a
// packet header looks like is supplied by the caller as two hooks
// ([Config.OpenPacket], [Config.ClosePacket]); package record implements them
// for CTF 1.8.
//
// In discard mode ([ModeDiscard]) a writer that needs a sub-buffer the
// consumer still holds drops its record; in overwrite mode ([ModeOverwrite],
// the flight recorder) it reclaims the oldest delivered one instead. An
// [Observer] copies delivered packets without consuming them (a snapshot),
// checking each slot's published sequence before and after the copy.
//
// The ring logic ([Channel], [Ring], [Consumer], [Observer], [Control]) works on plain []byte, so
// it is tested with make([]byte, n); the memfd, seal and mmap plumbing lives
// apart in memfd_linux.go. docs/ARCHITECTURE.md describes the protocol.
package shm
