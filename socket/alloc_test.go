//go:build !race

// The allocation check runs without the race detector, whose
// instrumentation allocates; scripts/test runs it on its own.

package socket_test

import "testing"

// TestEchoPathDoesNotAllocate keeps the benchmark's promise in the test
// suite: a whole echoed message, both sides, allocates nothing.
func TestEchoPathDoesNotAllocate(t *testing.T) {
	for _, m := range engineModes {
		res := testing.Benchmark(func(b *testing.B) { benchPingPong(b, m.cfg, 64) })
		if res.N == 0 {
			t.Fatalf("%s: benchmark did not run", m.name)
		}
		// allow stray runtime allocations (timers, scheduler) well below one per message
		if per := float64(res.MemAllocs) / float64(res.N); per > 0.01 {
			t.Errorf("%s: %.3f allocations per echoed message, want 0", m.name, per)
		}
	}
}
