package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/wire"
)

// TestCPUOffline runs cpu online's checks (cpu_online_test.go) on cpu offline.
func TestCPUOffline(t *testing.T) { testSetCPU(t, "offline", wire.OpCPUOffline) }
