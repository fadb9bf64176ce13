// Package engine runs overlap's event loops: on Linux one epoll instance per
// loop, elsewhere (or with the overlap_portable build tag) a portable loop
// built on Go's runtime. Loops run tasks and timers, and on Linux dispatch
// readiness events to registered handlers; an optional worker pool runs
// completion callbacks off the loops (c-pal's min/max thread counts).
//
// The engine knows nothing about sockets: package socket builds the
// completion-based socket contract on top of it.
package engine

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overlap-go/overlap/internal/gid"
)

// DefaultLentBufferSize is the size of the receive buffer a loop lends to a
// receive that brings no buffer of its own.
const DefaultLentBufferSize = 64 << 10

// ErrClosed is returned by operations on an engine that has been closed.
var ErrClosed = errors.New("engine: closed")

// ErrBusy is returned by Close when sockets still hold the engine after the
// wait allowed by Config.CloseTimeout.
var ErrBusy = errors.New("engine: sockets still open")

// Config configures an Engine. The zero value is valid: one loop per CPU,
// callbacks on the loops.
type Config struct {
	// Loops is the number of event loops; 0 means runtime.NumCPU().
	Loops int
	// Workers, when non-nil, moves completion callbacks off the loops onto a
	// pool of worker goroutines, so that a callback that blocks does not stall
	// the I/O of other sockets.
	Workers *WorkerConfig
	// LentBufferSize is the size of lent receive buffers; 0 means
	// DefaultLentBufferSize.
	LentBufferSize int
	// CloseTimeout bounds how long Close waits for sockets to close before
	// failing with ErrBusy; 0 means 5 seconds.
	CloseTimeout time.Duration
}

// WorkerConfig sizes the callback worker pool, after c-pal's execution
// engine parameters.
type WorkerConfig struct {
	// Min workers are started at once and never exit.
	Min int
	// Max bounds the pool; 0 means unbounded.
	Max int
}

// Task is work run on a loop or a worker. Sockets implement it, so
// scheduling one never allocates.
type Task interface {
	RunTask()
}

// Engine owns the event loops and the optional worker pool.
type Engine struct {
	cfg     Config
	loops   []*Loop
	next    atomic.Uint32
	workers *workerPool
	refs    sync.WaitGroup
	nrefs   atomic.Int64
	closed  atomic.Bool
	closeMu sync.Mutex
	gids    sync.Map // goroutine ID -> struct{} for loops and workers
}

// New starts an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Loops < 0 || cfg.LentBufferSize < 0 {
		return nil, fmt.Errorf("engine: invalid config: loops=%d lent=%d", cfg.Loops, cfg.LentBufferSize)
	}
	if cfg.Loops == 0 {
		cfg.Loops = runtime.NumCPU()
	}
	if cfg.LentBufferSize == 0 {
		cfg.LentBufferSize = DefaultLentBufferSize
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	if w := cfg.Workers; w != nil && (w.Min < 0 || w.Max < 0 || (w.Max > 0 && w.Min > w.Max)) {
		return nil, fmt.Errorf("engine: invalid worker counts min=%d max=%d", w.Min, w.Max)
	}
	e := &Engine{cfg: cfg}
	for i := 0; i < cfg.Loops; i++ {
		l, err := newLoop(e, i)
		if err != nil {
			for _, l := range e.loops {
				l.stop()
			}
			return nil, fmt.Errorf("engine: start loop %d: %w", i, err)
		}
		e.loops = append(e.loops, l)
	}
	for _, l := range e.loops {
		l.start()
	}
	if cfg.Workers != nil {
		e.workers = newWorkerPool(e, *cfg.Workers)
	}
	return e, nil
}

// Loops returns the engine's loops.
func (e *Engine) Loops() []*Loop { return e.loops }

// Next returns a loop, round-robin, for spreading sockets.
func (e *Engine) Next() *Loop {
	return e.loops[int(e.next.Add(1)-1)%len(e.loops)]
}

// HasWorkers reports whether callbacks run on a worker pool.
func (e *Engine) HasWorkers() bool { return e.workers != nil }

// Dispatch runs t on the worker pool. It must only be called when
// HasWorkers is true.
func (e *Engine) Dispatch(t Task) { e.workers.dispatch(t) }

// LentBufferSize returns the size of a lent receive buffer.
func (e *Engine) LentBufferSize() int { return e.cfg.LentBufferSize }

// Acquire records that a socket holds the engine; it fails once the engine
// is closed.
func (e *Engine) Acquire() error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	e.refs.Add(1)
	e.nrefs.Add(1)
	return nil
}

// Release undoes Acquire.
func (e *Engine) Release() {
	e.nrefs.Add(-1)
	e.refs.Done()
}

// Refs returns the number of sockets holding the engine.
func (e *Engine) Refs() int64 { return e.nrefs.Load() }

// OnEngineGoroutine reports whether the caller runs on one of this engine's
// loops or workers, that is, inside a callback. Code there must not block
// waiting for the engine.
func (e *Engine) OnEngineGoroutine() bool {
	_, ok := e.gids.Load(gid.Current())
	return ok
}

func (e *Engine) enterGoroutine() uint64 {
	id := gid.Current()
	e.gids.Store(id, struct{}{})
	return id
}

// Close stops accepting new sockets, waits (up to Config.CloseTimeout) for
// those still open to close, then stops the loops and workers. It returns
// ErrBusy, and leaves the loops running, if sockets remain open. Calling it
// from inside a callback returns an error rather than deadlocking.
func (e *Engine) Close() error {
	if e.OnEngineGoroutine() {
		return errors.New("engine: Close called from an engine goroutine")
	}
	e.closeMu.Lock()
	already := e.closed.Swap(true)
	e.closeMu.Unlock()
	if already {
		return nil
	}
	done := make(chan struct{})
	go func() { e.refs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.CloseTimeout):
		e.closed.Store(false)
		return fmt.Errorf("%w: %d", ErrBusy, e.nrefs.Load())
	}
	for _, l := range e.loops {
		l.stop()
	}
	if e.workers != nil {
		e.workers.stop()
	}
	return nil
}

// workerPool runs tasks on goroutines: Min always alive, up to Max (0 =
// unbounded) when all are busy, extra ones leaving after a second idle.
type workerPool struct {
	e        *Engine
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []Task
	head     int // next task in queue
	count    int
	idle     int
	min, max int
	stopped  bool
	wg       sync.WaitGroup
}

func newWorkerPool(e *Engine, c WorkerConfig) *workerPool {
	p := &workerPool{e: e, min: c.Min, max: c.Max}
	p.cond = sync.NewCond(&p.mu)
	p.mu.Lock()
	for i := 0; i < c.Min; i++ {
		p.spawnLocked()
	}
	p.mu.Unlock()
	return p
}

func (p *workerPool) spawnLocked() {
	p.count++
	p.wg.Add(1)
	go p.work()
}

func (p *workerPool) dispatch(t Task) {
	p.mu.Lock()
	p.queue = append(p.queue, t)
	if p.idle > 0 {
		p.cond.Signal()
	} else if p.max == 0 || p.count < p.max {
		p.spawnLocked()
	}
	p.mu.Unlock()
}

const workerIdle = time.Second

func (p *workerPool) work() {
	defer p.wg.Done()
	id := p.e.enterGoroutine()
	defer p.e.gids.Delete(id)
	// One timer per worker, re-armed at each idle wait: a worker above Min
	// leaves after an idle second.
	var timedOut bool
	idle := time.AfterFunc(time.Hour, func() {
		p.mu.Lock()
		timedOut = true
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	idle.Stop()
	defer idle.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.queue) == p.head {
			if p.stopped {
				p.count--
				return
			}
			extra := p.count > p.min
			if extra {
				timedOut = false
				idle.Reset(workerIdle)
			}
			p.idle++
			p.cond.Wait()
			p.idle--
			if extra {
				idle.Stop()
				if timedOut && len(p.queue) == p.head && p.count > p.min {
					p.count--
					return
				}
			}
		}
		t := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.head == len(p.queue) {
			// Drained: reuse the array from the start, so a steady flow
			// of tasks never allocates.
			p.queue, p.head = p.queue[:0], 0
		}
		p.mu.Unlock()
		t.RunTask()
		p.mu.Lock()
	}
}

func (p *workerPool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
