// Histogram: a fixed-size, log-bucketed latency histogram in the style of HdrHistogram.

package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// The bucket layout: values below histLinear nanoseconds get one bucket
// each, so they are recorded exactly. Above that, every power-of-two range
// [2^k, 2^(k+1)) is split into histSub equal buckets, which bounds the
// relative width of a bucket by 1/histSub (0.78%); reporting the bucket's
// midpoint halves that error again. Values of 2^histMaxBits ns (about 18
// minutes) and above are clamped into the last bucket; the exact maximum is
// kept separately.
const (
	histSubBits  = 7
	histSub      = 1 << histSubBits // 128 buckets per power of two
	histLinear   = 2 * histSub      // values 0..255 ns are exact
	histMaxBits  = 40
	histMaxValue = int64(1)<<histMaxBits - 1
	histBuckets  = histLinear + (histMaxBits-histSubBits-1)*histSub
)

// histogram counts latencies in nanoseconds. Its memory is fixed (about
// 35 KiB), recording never allocates, and it is not safe for concurrent use:
// each goroutine keeps its own and they are merged at the end.
type histogram struct {
	counts [histBuckets]uint64
	total  uint64
	sum    int64 // nanoseconds, for the mean
	min    int64
	max    int64
}

// bucketOf returns the index of the bucket that holds v.
func bucketOf(v int64) int {
	if v < histLinear {
		if v < 0 {
			v = 0
		}
		return int(v)
	}
	if v > histMaxValue {
		v = histMaxValue
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1) // >= 1
	return histLinear + (shift-1)*histSub + int(uint64(v)>>uint(shift)) - histSub
}

// bucketRange returns the lowest and highest values that fall in bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < histLinear {
		return int64(i), int64(i)
	}
	j := i - histLinear
	shift := uint(j/histSub + 1)
	top := int64(j%histSub + histSub)
	return top << shift, (top+1)<<shift - 1
}

// record adds one latency to h.
func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += v
}

// merge adds all of o's counts to h.
func (h *histogram) merge(o *histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// quantile returns the latency below or at which a fraction q (0..1) of the
// recorded values lie, to within the bucket precision. It returns 0 for an
// empty histogram; q >= 1 returns the exact maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			if v > h.max {
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}

// mean returns the arithmetic mean of the recorded values, or 0.
func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.total))
}
