// Timers of a loop: a min-heap of deadlines, run on the loop goroutine.

package engine

import (
	"container/heap"
	"time"
)

// Timer is a one-shot timer whose function runs on its loop. A socket keeps
// one and re-arms it, so idle timeouts cost no allocation per message.
type Timer struct {
	l     *Loop
	when  int64 // loop clock, nanoseconds
	index int   // in the heap; -1 when not armed
	f     func()
}

// NewTimer returns an unarmed timer that runs f on l when it fires.
func (l *Loop) NewTimer(f func()) *Timer {
	return &Timer{l: l, index: -1, f: f}
}

// Reset arms t to fire after d, replacing any earlier deadline. It may be
// called from any goroutine.
func (t *Timer) Reset(d time.Duration) {
	l := t.l
	l.mu.Lock()
	t.when = l.now() + int64(d)
	if t.index >= 0 {
		heap.Fix(&l.timers, t.index)
	} else {
		heap.Push(&l.timers, t)
	}
	first := l.timers[0] == t
	l.mu.Unlock()
	if first && l.asleep.Load() {
		l.wake()
	}
}

// Stop disarms t. It reports whether t was armed.
func (t *Timer) Stop() bool {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&l.timers, t.index)
	return true
}

// now is the loop's monotonic clock in nanoseconds.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// expired pops the timers due at now; the caller holds l.mu.
func (l *Loop) expiredLocked(now int64, due []*Timer) []*Timer {
	for len(l.timers) > 0 && l.timers[0].when <= now {
		due = append(due, heap.Pop(&l.timers).(*Timer))
	}
	return due
}

// untilNextLocked returns milliseconds to the next timer, -1 when none;
// the caller holds l.mu.
func (l *Loop) untilNextLocked(now int64) int {
	if len(l.timers) == 0 {
		return -1
	}
	d := l.timers[0].when - now
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
