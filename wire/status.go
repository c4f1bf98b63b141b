package wire

import (
	"fmt"
	"time"
)

// Status describes the trace and its channel.
type Status struct {
	State            State         `json:"state"`
	SubbufSize       uint64        `json:"subbuf_size"`
	NumSubbuf        uint64        `json:"num_subbuf"`
	Mode             Mode          `json:"mode"`
	SwitchTimer      time.Duration `json:"switch_timer_ns"`
	CPUs             int           `json:"cpus"`        // pCPUs configured
	CPUsOnline       []int         `json:"cpus_online"` // ids of the pCPUs up
	EventsWritten    uint64        `json:"events_written"`
	EventsLost       uint64        `json:"events_lost"` // LostFull + LostTooBig
	LostFull         uint64        `json:"lost_full"`
	LostTooBig       uint64        `json:"lost_too_big"`
	PacketsDelivered uint64        `json:"packets_delivered"`
	PacketsConsumed  uint64        `json:"packets_consumed"`
	BadConsumed      uint64        `json:"bad_consumed"`
	Refcount         uint64        `json:"refcount"` // live mappings
	Readers          int           `json:"readers"`  // registered pollers (dom0)
	MetadataVersion  uint64        `json:"metadata_version"`
	UUID             string        `json:"uuid"`
	// EnabledEvents names the enabled event types, in id order, as many as fit
	// [MaxStatusNames] bytes of names: the first EnabledEvents of EnabledCount.
	EnabledEvents []string `json:"enabled_events"`
	EnabledCount  int      `json:"enabled_count"`
	Name          string   `json:"name"`                    // the session's name
	WorkloadCPUs  []int    `json:"workload_cpus,omitempty"` // the workload's pCPUs; empty: all
	Output        string   `json:"output,omitempty"`        // the session consumer's directory (dom0)
	// Clock is the trace clock: "monotonic" or "tsc" (the hypervisor's choice, see --clock).
	Clock string `json:"clock,omitempty"`
	// ConsumerPID is the process holding the consumer role, 0 if none.
	ConsumerPID int `json:"consumer_pid"`
	// ConsumerOutput is where the consumer said it sends the trace: a directory or a relay URL.
	ConsumerOutput string `json:"consumer_output,omitempty"`
	// ConsumerSentBytes is what the consumer has released (sent or written): packets_consumed
	// sub-buffers. ConsumerQueuedBytes is delivered but not yet released.
	ConsumerSentBytes   uint64 `json:"consumer_sent_bytes"`
	ConsumerQueuedBytes uint64 `json:"consumer_queued_bytes"`
	// PerCPU has one entry per pCPU ring (0 .. CPUs-1) while a trace exists, a page at a
	// time: the entries from Status.CPUFrom (0 without arguments) that fit one message.
	PerCPU []CPUStatus `json:"per_cpu,omitempty"`
	// NextCPU is set when PerCPU goes on: the pCPU to ask for next (Status.CPUFrom).
	// [WholeStatus] fetches every page.
	NextCPU int `json:"next_cpu,omitempty"`
}

// CPUStatus is one pCPU's ring and stream.
type CPUStatus struct {
	CPU              int    `json:"cpu"`
	Online           bool   `json:"online"`
	EventsWritten    uint64 `json:"events_written"`
	EventsLost       uint64 `json:"events_lost"`
	PacketsDelivered uint64 `json:"packets_delivered"`
	PacketsConsumed  uint64 `json:"packets_consumed"`
	// Overwritten counts the packets reclaimed before they were consumed
	// (overwrite mode; always 0 in discard mode).
	Overwritten uint64 `json:"overwritten"`
}

// MaxStatusNames bounds the bytes of names in [Status.EnabledEvents], so that a status reply
// fits a message whatever the event types (the whole list: event_list).
const MaxStatusNames = 16 << 10

// WholeStatus fetches the status with every page of its per-pCPU list through call (which
// sends one request and returns its reply, as [Conn.Call] does): the first reply, then one
// request per further page (Status.CPUFrom = NextCPU), the entries appended in order.
func WholeStatus(call func(*Request) (*Reply, error)) (*Status, error) {
	rep, err := call(&Request{Op: OpStatus})
	if err != nil {
		return nil, err
	}
	st := rep.Status
	for st.NextCPU != 0 {
		from := st.NextCPU
		rep, err := call(&Request{Op: OpStatus, Status: &StatusArgs{CPUFrom: from}})
		if err != nil {
			return nil, err
		}
		page := rep.Status
		if page.NextCPU != 0 && page.NextCPU <= from || len(page.PerCPU) == 0 && page.NextCPU != 0 {
			return nil, fmt.Errorf("status: the page from pCPU %d names %d as the next: %w", from, page.NextCPU, ErrMalformed)
		}
		st.PerCPU = append(st.PerCPU, page.PerCPU...)
		st.NextCPU = page.NextCPU
	}
	return st, nil
}
