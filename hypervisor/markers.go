package hypervisor

import "github.com/lttng-xen/lttng-xen/record"

// markers are the event types no filter removes: cpu_offline and cpu_online
// mark where a hotplugged pCPU's stream has a gap, which a reader needs to
// tell a quiet pCPU from an absent one. They are written only on hotplug,
// so keeping them costs nothing; --events and disable-event leave them
// enabled (and status lists them among the enabled events).
var markers = [...]uint32{record.IDCPUOnline, record.IDCPUOffline}

// withMarkers returns m with the markers enabled.
func (m eventMask) withMarkers() eventMask {
	for _, id := range markers {
		if w := int(id >> 6); w < len(m) {
			m[w] |= 1 << (id & 63)
		}
	}
	return m
}
