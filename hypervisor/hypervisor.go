package hypervisor

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Config is the hypervisor's own configuration (not the trace's).
type Config struct {
	CPUs    int     // simulated pCPUs online at boot (default 4)
	MaxCPUs int     // pCPU ids range over [0, MaxCPUs) (default CPUs)
	Rate    float64 // events per second per pCPU; 0 = as fast as possible
	Seed    uint64  // workload seed
	Logger  *slog.Logger
	// Clock is the timestamp source (default record.Monotonic, or
	// record.TSC when TSC is set).
	Clock func() uint64
	// TSC, if set, makes the trace clock the CPU's time-stamp counter, as
	// calibrated (record.CalibrateTSC): records carry raw counter values and
	// the metadata declares the counter's frequency and offset.
	TSC *record.TSCClock
}

// Hypervisor owns the trace and the pCPUs. Its methods are the hypercalls;
// they are safe for concurrent use (serialised by mu). The write path
// never takes mu.
type Hypervisor struct {
	cfg     Config
	log     *slog.Logger
	table   *record.Table
	builtin []*record.Event // the workload's events, by id
	virq    *virq
	cpus    []*pcpu
	done    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	trace   *Trace              // the current trace, nil if none
	running *Trace              // the started trace pCPUs write to, nil if none
	started chan struct{}       // closed (and replaced) when a trace starts
	binder  any                 // the connection that bound VIRQ_TBUF
	maps    map[uint64]*mapping // live mappings by id
	nextMap uint64
	closed  bool
	zombies map[*Trace]struct{} // destroyed traces with live mappings
}

type mapping struct {
	t     *Trace
	owner any
}

// New checks cfg, creates VIRQ_TBUF and starts the pCPU goroutines (idle
// until a trace is started).
func New(cfg Config) (*Hypervisor, error) {
	if cfg.CPUs == 0 {
		cfg.CPUs = 4
	}
	if cfg.MaxCPUs == 0 {
		cfg.MaxCPUs = cfg.CPUs
	}
	switch {
	case cfg.CPUs < 1:
		return nil, fmt.Errorf("--cpus %d: need at least one pCPU", cfg.CPUs)
	case cfg.MaxCPUs < cfg.CPUs:
		return nil, fmt.Errorf("--max-cpus %d is below --cpus %d", cfg.MaxCPUs, cfg.CPUs)
	case cfg.MaxCPUs > 4096:
		return nil, fmt.Errorf("--max-cpus %d: at most 4096 pCPUs", cfg.MaxCPUs)
	case cfg.Rate < 0:
		return nil, fmt.Errorf("--rate %g: must be 0 (flat out) or positive", cfg.Rate)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = record.Monotonic
		if cfg.TSC != nil {
			cfg.Clock = record.TSC
		}
	}
	v, err := newVIRQ()
	if err != nil {
		return nil, err
	}
	h := &Hypervisor{
		cfg: cfg, log: cfg.Logger, table: record.Builtin(), virq: v,
		done: make(chan struct{}), started: make(chan struct{}),
		maps: make(map[uint64]*mapping), zombies: make(map[*Trace]struct{}),
	}
	h.builtin = h.table.Events()
	for i := range cfg.MaxCPUs {
		p := &pcpu{id: uint32(i), h: h, wl: newWorkload(cfg.Seed, uint32(i)), wake: make(chan struct{})}
		p.online.Store(i < cfg.CPUs)
		h.cpus = append(h.cpus, p)
		h.wg.Go(func() { p.loop(h.done) })
	}
	return h, nil
}

// Close stops tracing, destroys the trace, stops the pCPUs and releases
// everything. Idempotent.
func (h *Hypervisor) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	if t := h.trace; t != nil {
		if t.state == shm.StateStarted {
			h.stopLocked(t)
		}
		h.destroyLocked(t)
	}
	for id := range h.maps {
		h.dropMapLocked(id)
	}
	h.mu.Unlock()
	close(h.done)
	h.wg.Wait()
	return h.virq.close()
}

// waitRunnable blocks until a trace is started and p is online (returning
// the trace) or done is closed (returning nil). No polling: it waits on
// channels closed when tracing starts or p's online state changes.
func (h *Hypervisor) waitRunnable(p *pcpu, done <-chan struct{}) *Trace {
	for {
		h.mu.Lock()
		t, started, wake := h.running, h.started, p.wake
		online := p.online.Load()
		h.mu.Unlock()
		if t != nil && online && t.runsWorkload(p.id) {
			return t
		}
		select {
		case <-started:
		case <-wake:
		case <-done:
			return nil
		}
	}
}

// deliver is every trace's Deliver hook: raise VIRQ_TBUF.
func (h *Hypervisor) deliver(uint32, uint64) { h.virq.raise() }

// BindVIRQ binds VIRQ_TBUF for owner (dom0's connection) and returns the
// eventfd to hand it. The first binder wins until it unbinds.
func (h *Hypervisor) BindVIRQ(owner any) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return -1, ErrClosed
	}
	if h.binder != nil && h.binder != owner {
		return -1, ErrAlreadyBound
	}
	h.binder = owner
	return h.virq.fd, nil
}

// Binder returns the owner of the VIRQ binding, nil if none.
func (h *Hypervisor) Binder() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.binder
}

// Bound reports whether owner holds the VIRQ binding.
func (h *Hypervisor) Bound(owner any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.binder != nil && h.binder == owner
}

// Disconnect drops everything owner held: its VIRQ binding and the
// mappings made through it (dom0 went away).
func (h *Hypervisor) Disconnect(owner any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.binder == owner {
		h.binder = nil
	}
	for id, m := range h.maps {
		if m.owner == owner {
			h.dropMapLocked(id)
		}
	}
}

// Create is trace_create.
func (h *Hypervisor) Create(cfg TraceConfig) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if h.trace != nil {
		return fmt.Errorf("%w (state %s)", ErrTraceExists, h.trace.state)
	}
	if err := checkGlobs(cfg.Events, h.table.Events()); err != nil {
		return err
	}
	var err error
	if cfg.CPUs, err = checkWorkloadCPUs(cfg.CPUs, len(h.cpus)); err != nil {
		return err
	}
	t, err := newTrace(cfg, len(h.cpus), h.cfg.Clock, h.deliver)
	if err != nil {
		return err
	}
	t.rules = initialRules(cfg.Events)
	t.mask.Store(new(computeMask(t.rules, h.table.Events())))
	t.ch.Control().SetMetadataVersion(h.table.Version())
	if err := t.initMetadata(h.table, h.cfg.TSC); err != nil {
		t.release()
		return err
	}
	h.trace = t
	h.log.Info("trace created", "name", cfg.Name, "geometry", cfg.Geometry.String(), "mode", cfg.Mode.String(), "switch_timer", cfg.SwitchTimer)
	return nil
}

func (h *Hypervisor) current() (*Trace, error) {
	if h.closed {
		return nil, ErrClosed
	}
	if h.trace == nil {
		return nil, ErrNoTrace
	}
	return h.trace, nil
}

// Start is trace_start: the pCPUs begin writing.
func (h *Hypervisor) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return err
	}
	if t.state == shm.StateStarted {
		return fmt.Errorf("%w: the trace is already started (stop it with: lttctl-xen stop)", ErrBadState)
	}
	t.stop = make(chan struct{})
	t.enabled.Store(true)
	t.setState(shm.StateStarted)
	h.running = t
	close(h.started)
	h.started = make(chan struct{})
	if d := t.cfg.SwitchTimer; d > 0 {
		t.timerDone = make(chan struct{})
		h.wg.Go(func() { switchTimer(t, d, t.timerDone) })
	}
	h.log.Info("trace started")
	return nil
}

// switchTimer flushes the open packet every d so a quiet trace reaches the
// consumer. A timer, not a poll: it runs only while the trace is started.
func switchTimer(t *Trace, d time.Duration, done <-chan struct{}) {
	tk := time.NewTicker(d)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			t.ch.Flush(false)
		case <-done:
			return
		}
	}
}

// Stop is trace_stop: the pCPUs stop, and once none is inside a write
// section the partial sub-buffer is flushed and delivered.
func (h *Hypervisor) Stop() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return err
	}
	if t.state != shm.StateStarted {
		return fmt.Errorf("%w: the trace is %s, not started (start it with: lttctl-xen start)", ErrBadState, t.state)
	}
	h.stopLocked(t)
	return nil
}

func (h *Hypervisor) stopLocked(t *Trace) {
	t.enabled.Store(false)
	close(t.stop)
	if t.timerDone != nil {
		close(t.timerDone)
		t.timerDone = nil
	}
	h.running = nil
	h.quiesce()
	t.ch.Flush(true)
	t.setState(shm.StateStopped)
	h.virq.raise() // readers re-check the state even if nothing was flushed
	cs := t.ch.Stats()
	h.log.Info("trace stopped", "events_written", t.eventsWritten(), "events_lost", cs.LostFull+cs.LostTooBig)
}

// quiesce waits until every pCPU has been seen outside its write sections.
// Sections are a batch of at most a few hundred records, so this yields
// for microseconds; it is not a polling loop on anything external.
func (h *Hypervisor) quiesce() {
	for _, p := range h.cpus {
		p.quiesce()
	}
}

func (p *pcpu) quiesce() {
	for p.section.Load() != 0 {
		runtime.Gosched()
	}
}

// Destroy is trace_destroy: stop if needed, wait for quiescence, publish
// the destroyed state and wake the readers, drop the hypervisor's
// reference. The memory goes with the last mapping.
func (h *Hypervisor) Destroy() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return err
	}
	if t.state == shm.StateStarted {
		h.stopLocked(t)
	}
	h.destroyLocked(t)
	return nil
}

func (h *Hypervisor) destroyLocked(t *Trace) {
	h.quiesce()
	t.setState(shm.StateDestroyed)
	h.virq.raise()
	h.trace = nil
	t.zombie = true
	h.zombies[t] = struct{}{}
	h.unrefLocked(t)
	h.log.Info("trace destroyed", "refcount", t.refcount)
}

func (h *Hypervisor) unrefLocked(t *Trace) {
	t.refcount--
	if t.refcount == 0 {
		delete(h.zombies, t)
		t.release()
	}
}

// Map is the map hypercall: it returns the control region's descriptor
// (read-only, sealed), the consumer region's (read-write for the consumer
// role, read-only for an observer) and the buffer's (read-only, sealed), and
// takes a reference on the trace's memory. One mapping at a time holds the
// consumer role: a second is refused with [wire.ErrBusy] naming the
// holder, until the holder unmaps or its connection closes.
func (h *Hypervisor) Map(owner any, args wire.MapArgs) (id uint64, fds [3]int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return 0, fds, err
	}
	consumer := args.Role == "" || args.Role == wire.RoleConsumer
	if consumer && t.cfg.Mode == shm.ModeOverwrite {
		// A consumer reads packets in place; in overwrite mode a writer may
		// reclaim the one it is reading. Snapshots copy and re-check.
		return 0, fds, withCode(fmt.Errorf("the trace is in overwrite mode (a flight recorder): it has no consumer; read it with lttctl-xen snapshot"), wire.ErrBadState)
	}
	if consumer && t.consumer != 0 {
		return 0, fds, withCode(fmt.Errorf("the trace already has a consumer: pid %d holds the role (one lttd-xen per trace; stop it first, or use lttd-xen --resume once it is gone)", t.consumerPID), wire.ErrBusy)
	}
	h.nextMap++
	id = h.nextMap
	h.maps[id] = &mapping{t: t, owner: owner}
	t.refcount++
	consFD := int(t.consRO.Fd())
	if consumer {
		t.consumer, t.consumerPID, t.consumerOutput = id, args.PID, args.Output
		t.ch.Control().SetConsumerPID(uint64(args.PID))
		consFD = int(t.cons.File.Fd())
	}
	return id, [3]int{int(t.ctrlRO.Fd()), consFD, int(t.bufRO.Fd())}, nil
}

// Unmap drops the reference taken by Map id.
func (h *Hypervisor) Unmap(owner any, id uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.maps[id]
	if !ok || m.owner != owner {
		return fmt.Errorf("%w: %d", ErrBadMap, id)
	}
	h.dropMapLocked(id)
	return nil
}

// dropMapLocked forgets mapping id, gives up its consumer role if it held
// it, and drops its reference.
func (h *Hypervisor) dropMapLocked(id uint64) {
	m := h.maps[id]
	delete(h.maps, id)
	if m.t.consumer == id {
		m.t.consumer, m.t.consumerPID, m.t.consumerOutput = 0, 0, ""
		m.t.ch.Control().SetConsumerPID(0)
	}
	h.unrefLocked(m.t)
}

// Status is the status hypercall.
func (h *Hypervisor) Status() wire.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	online := make([]int, 0, len(h.cpus))
	for _, p := range h.cpus {
		if p.online.Load() {
			online = append(online, int(p.id))
		}
	}
	st := wire.Status{State: wire.StateNone, CPUs: len(h.cpus), CPUsOnline: online, EnabledEvents: []string{}, Clock: h.clockName()}
	t := h.trace
	if t == nil {
		return st
	}
	st.State = wire.State(t.state.String())
	st.SubbufSize, st.NumSubbuf = t.cfg.Geometry.SubbufSize, t.cfg.Geometry.NumSubbuf
	st.Mode = wire.Mode(t.cfg.Mode.String())
	st.SwitchTimer = t.cfg.SwitchTimer
	for cpu, p := range h.cpus {
		rs := t.ch.Ring(cpu).Stats()
		cs := wire.CPUStatus{
			CPU: cpu, Online: p.online.Load(), EventsWritten: t.cpuWritten(cpu),
			EventsLost: rs.LostFull + rs.LostTooBig, PacketsDelivered: rs.Delivered, PacketsConsumed: rs.Consumed,
			Overwritten: rs.Overwritten,
		}
		st.PerCPU = append(st.PerCPU, cs)
		st.EventsWritten += cs.EventsWritten
		st.LostFull += rs.LostFull
		st.LostTooBig += rs.LostTooBig
		st.PacketsDelivered += rs.Delivered
		st.PacketsConsumed += rs.Consumed
		st.BadConsumed += rs.BadConsumed
	}
	st.EventsLost = st.LostFull + st.LostTooBig
	st.Refcount = uint64(t.refcount)
	st.ConsumerPID, st.ConsumerOutput = t.consumerPID, t.consumerOutput
	st.ConsumerSentBytes = st.PacketsConsumed * t.cfg.Geometry.SubbufSize
	st.ConsumerQueuedBytes = (st.PacketsDelivered - st.PacketsConsumed) * t.cfg.Geometry.SubbufSize
	st.MetadataVersion = t.ch.Control().MetadataVersion()
	st.UUID = record.FormatUUID(t.uuid)
	st.EnabledEvents, st.EnabledCount = h.enabledNamesLocked(t)
	t.sessionStatus(&st)
	return st
}

// clockName is the trace clock's name, as status shows it.
func (h *Hypervisor) clockName() string {
	if h.cfg.TSC != nil {
		return "tsc"
	}
	return "monotonic"
}
