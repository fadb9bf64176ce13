// Tests for the latency histogram.

package loadgen

import (
	"math"
	"testing"
	"time"
)

// within reports whether got is within frac of want.
func within(got, want time.Duration, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

func TestHistogramEmpty(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 || h.quantile(1) != 0 || h.mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h histogram
	for v := 1; v <= 200; v++ {
		h.record(time.Duration(v))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 100}, {0.99, 198}, {0.999, 200}, {1, 200}, {0, 1}} {
		if got := h.quantile(c.q); got != c.want {
			t.Errorf("q%v = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestHistogramPercentilesWithinOnePercent(t *testing.T) {
	var h histogram
	// 1µs, 2µs, ..., 100000µs (100ms): the q-quantile is q*100000µs.
	for v := 1; v <= 100000; v++ {
		h.record(time.Duration(v) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}} {
		if got := h.quantile(c.q); !within(got, c.want, 0.01) {
			t.Errorf("q%v = %v, want %v ±1%%", c.q, got, c.want)
		}
	}
	if got := h.quantile(1); got != 100*time.Millisecond {
		t.Errorf("max = %v, want exactly 100ms", got)
	}
	if got := h.mean(); !within(got, 50000500*time.Nanosecond, 1e-9) {
		t.Errorf("mean = %v", got)
	}
}

func TestHistogramSkewed(t *testing.T) {
	var h histogram
	for range 990 {
		h.record(20 * time.Microsecond)
	}
	for range 9 {
		h.record(3 * time.Millisecond)
	}
	h.record(2 * time.Second)
	if got := h.quantile(0.5); !within(got, 20*time.Microsecond, 0.01) {
		t.Errorf("p50 = %v", got)
	}
	if got := h.quantile(0.99); !within(got, 20*time.Microsecond, 0.01) {
		t.Errorf("p99 = %v", got)
	}
	if got := h.quantile(0.999); !within(got, 3*time.Millisecond, 0.01) {
		t.Errorf("p99.9 = %v", got)
	}
	if got := h.quantile(1); got != 2*time.Second {
		t.Errorf("max = %v", got)
	}
}

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	prevHi := int64(-1)
	for i := range histBuckets {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d,%d], previous ended at %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d] maps to %d,%d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if i >= histLinear && float64(hi-lo+1)/float64(lo) > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d [%d,%d] is wider than 1/%d", i, lo, hi, histSub)
		}
		prevHi = hi
	}
	if prevHi != histMaxValue {
		t.Fatalf("last bucket ends at %d, want %d", prevHi, histMaxValue)
	}
}

func TestHistogramClampsHugeValues(t *testing.T) {
	var h histogram
	h.record(-5)
	h.record(time.Duration(math.MaxInt64))
	if h.quantile(0) != 0 {
		t.Errorf("negative latency should count as 0, got %v", h.quantile(0))
	}
	if h.quantile(1) != time.Duration(math.MaxInt64) {
		t.Errorf("max should stay exact, got %v", h.quantile(1))
	}
	if got := h.quantile(0.99); got < time.Duration(histMaxValue/2) {
		t.Errorf("huge value landed in a low bucket: %v", got)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for v := 1; v <= 1000; v++ {
		d := time.Duration(v) * time.Microsecond
		all.record(d)
		if v%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(new(histogram))
	if m.total != all.total || m.min != all.min || m.max != all.max || m.sum != all.sum || m.counts != all.counts {
		t.Fatal("merged histogram differs from recording everything in one")
	}
}
