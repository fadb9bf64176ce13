//go:build !linux || overlap_portable

// The portable backend: a loop is a goroutine that runs tasks and timers;
// socket I/O is done by Go's net package (see package socket), which posts
// completions here. It keeps the engine's API and contract on every system
// Go runs on.

package engine

import (
	"time"
)

// Backend names the readiness backend compiled in.
const Backend = "portable"

type poller struct {
	wakec chan struct{}
}

func newLoop(e *Engine, id int) (*Loop, error) {
	l := &Loop{e: e, id: id, epoch: time.Now(), lent: make([]byte, e.cfg.LentBufferSize)}
	l.wakec = make(chan struct{}, 1)
	return l, nil
}

func (l *Loop) start() {
	l.done = make(chan struct{})
	go l.run()
}

func (p *poller) wake() {
	select {
	case p.wakec <- struct{}{}:
	default:
	}
}

func (p *poller) close() {}

func (l *Loop) run() {
	defer close(l.done)
	l.gid.Store(l.e.enterGoroutine())
	defer l.e.gids.Delete(l.gid.Load())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for !l.quit.Load() {
		if l.runQueued() {
			continue
		}
		ms := l.timeoutBeforeSleep()
		if ms == 0 {
			l.asleep.Store(false)
			continue
		}
		if ms > 0 {
			timer.Reset(time.Duration(ms) * time.Millisecond)
			select {
			case <-l.wakec:
			case <-timer.C:
			}
		} else {
			<-l.wakec
		}
		l.asleep.Store(false)
		l.waking.Store(false)
	}
}
