// The parts of a loop every backend shares: the run queue, timers, the lent
// buffer and the wake-up handshake.

package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// Loop is one event loop: a goroutine that waits for readiness (Linux),
// runs scheduled tasks and fires timers. Everything a socket does to its
// file descriptor happens on its loop.
type Loop struct {
	e     *Engine
	id    int
	epoch time.Time
	gid   atomic.Uint64

	mu      sync.Mutex
	runq    []Task
	spare   []Task
	timers  timerHeap
	due     []*Timer
	pending atomic.Int32 // len(runq), readable without the lock
	asleep  atomic.Bool  // set just before blocking in the poller
	waking  atomic.Bool  // a wake-up is in flight
	quit    atomic.Bool
	done    chan struct{}

	lent []byte // lent receive buffer, used on the loop goroutine only

	poller
}

// ID returns the loop's index in its engine.
func (l *Loop) ID() int { return l.id }

// Engine returns the loop's engine.
func (l *Loop) Engine() *Engine { return l.e }

// Lent returns the loop's lent receive buffer. Only code running on the
// loop goroutine may use it, and only until it returns to the loop.
func (l *Loop) Lent() []byte { return l.lent }

// Schedule queues t to run on the loop. It may be called from any goroutine,
// never runs t before returning, and does not allocate once the queue has
// grown to its working size.
func (l *Loop) Schedule(t Task) {
	l.mu.Lock()
	l.runq = append(l.runq, t)
	l.mu.Unlock()
	l.pending.Add(1)
	if l.asleep.Load() {
		l.wake()
	}
}

func (l *Loop) wake() {
	if l.waking.CompareAndSwap(false, true) {
		l.poller.wake()
	}
}

// runQueued runs the tasks queued so far and fires due timers. It reports
// whether it did anything.
func (l *Loop) runQueued() bool {
	l.mu.Lock()
	q := l.runq
	l.runq = l.spare[:0]
	l.pending.Store(0)
	due := l.expiredLocked(l.now(), l.due[:0])
	l.mu.Unlock()
	for i, t := range q {
		t.RunTask()
		q[i] = nil
	}
	for i, t := range due {
		t.f()
		due[i] = nil
	}
	l.mu.Lock()
	l.spare = q[:0]
	l.due = due[:0]
	l.mu.Unlock()
	return len(q) > 0 || len(due) > 0
}

// timeout returns how long the loop may block, in milliseconds (-1 =
// forever), after announcing that it is about to sleep.
func (l *Loop) timeoutBeforeSleep() int {
	l.asleep.Store(true)
	if l.pending.Load() > 0 || l.quit.Load() {
		l.asleep.Store(false)
		return 0
	}
	l.mu.Lock()
	ms := l.untilNextLocked(l.now())
	l.mu.Unlock()
	if ms == 0 {
		l.asleep.Store(false)
	}
	return ms
}

func (l *Loop) stop() {
	l.quit.Store(true)
	l.poller.wake()
	if l.done != nil {
		<-l.done
	}
	l.poller.close()
}
