// Tests of the engine on its own: tasks, timers, workers, close.

package engine_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
)

type taskFunc func()

func (f taskFunc) RunTask() { f() }

func newEngine(t *testing.T, cfg engine.Config) *engine.Engine {
	t.Helper()
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestDefaultsToOneLoopPerCPU(t *testing.T) {
	e := newEngine(t, engine.Config{})
	if len(e.Loops()) < 1 {
		t.Fatal("no loops")
	}
	if _, err := engine.New(engine.Config{Loops: -1}); err == nil {
		t.Fatal("negative loops accepted")
	}
	if _, err := engine.New(engine.Config{Workers: &engine.WorkerConfig{Min: 3, Max: 2}}); err == nil {
		t.Fatal("min workers above max accepted")
	}
}

// Tasks scheduled from many goroutines all run, on their loop, in the
// order each goroutine scheduled them.
func TestScheduleFromManyGoroutines(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 2})
	l := e.Loops()[0]
	const gs, per = 8, 2000
	var wg sync.WaitGroup
	wg.Add(gs * per)
	last := make([]int, gs)
	var bad atomic.Int32
	for g := 0; g < gs; g++ {
		go func() {
			for i := 0; i < per; i++ {
				l.Schedule(taskFunc(func() {
					if !e.OnEngineGoroutine() {
						bad.Add(1)
					}
					if last[g] != i { // only the loop touches last: no race
						bad.Add(1)
					}
					last[g] = i + 1
					wg.Done()
				}))
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d tasks ran out of order or off the loop", bad.Load())
	}
	if e.OnEngineGoroutine() {
		t.Fatal("the test goroutine claims to be an engine goroutine")
	}
}

func TestTimersFireInDeadlineOrder(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	l := e.Loops()[0]
	fired := make(chan int, 3)
	for _, d := range []int{30, 10, 20} {
		tm := l.NewTimer(func() { fired <- d })
		tm.Reset(time.Duration(d) * time.Millisecond)
	}
	stopped := l.NewTimer(func() { fired <- -1 })
	stopped.Reset(5 * time.Millisecond)
	if !stopped.Stop() {
		t.Fatal("Stop of an armed timer reported false")
	}
	for _, want := range []int{10, 20, 30} {
		select {
		case got := <-fired:
			if got != want {
				t.Fatalf("fired %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("timer did not fire")
		}
	}
}

func TestWorkersRunTasksAndGrowToMax(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1, Workers: &engine.WorkerConfig{Min: 1, Max: 3}})
	if !e.HasWorkers() {
		t.Fatal("no workers")
	}
	// Three tasks that block until all three run at once: needs 3 workers.
	var started sync.WaitGroup
	started.Add(3)
	release := make(chan struct{})
	done := make(chan struct{}, 3)
	for i := 0; i < 3; i++ {
		e.Dispatch(taskFunc(func() {
			started.Done()
			<-release
			done <- struct{}{}
		}))
	}
	started.Wait()
	close(release)
	for i := 0; i < 3; i++ {
		<-done
	}
}

func TestCloseFromInsideALoopFails(t *testing.T) {
	e := newEngine(t, engine.Config{Loops: 1})
	got := make(chan error, 1)
	e.Loops()[0].Schedule(taskFunc(func() { got <- e.Close() }))
	if err := <-got; err == nil {
		t.Fatal("Close from a loop succeeded")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Acquire(); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("acquire after close: %v", err)
	}
}
