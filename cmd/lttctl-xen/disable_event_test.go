package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/wire"
)

// TestDisableEvent runs enable-event's checks (enable_event_test.go) on disable-event.
func TestDisableEvent(t *testing.T) {
	testSetEvents(t, "disable-event", wire.OpDisableEvent, "disabled")
}
