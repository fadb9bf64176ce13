// Report: human-readable and JSON renderings of a Result.

package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes a short human-readable summary of r to w.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "echo %s: %d/%d connections, %d-byte messages, pipeline %d, measured %s\n",
		r.Addr, r.Connected, r.Conns, r.Size, r.Pipeline, roundDuration(r.Duration))
	fmt.Fprintf(&b, "  messages    %d (%.1f msg/s)\n", r.Messages, r.MsgsPerSec)
	fmt.Fprintf(&b, "  throughput  %.2f MB/s each way (%d bytes echoed)\n", r.MBPerSec, r.Bytes)
	fmt.Fprintf(&b, "  latency     p50 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
		roundDuration(r.P50), roundDuration(r.P99), roundDuration(r.P999),
		roundDuration(r.Max), roundDuration(r.Mean))
	fmt.Fprintf(&b, "  errors      %d\n", r.Errors)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(&b, "    e.g. %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonResult is the stable JSON form of a Result. Durations are in
// microseconds, as floating-point numbers.
type jsonResult struct {
	Addr         string   `json:"addr"`
	Conns        int      `json:"conns"`
	Connected    int      `json:"connected"`
	Size         int      `json:"size"`
	Pipeline     int      `json:"pipeline"`
	DurationUS   float64  `json:"duration_us"`
	Messages     int64    `json:"messages"`
	Bytes        int64    `json:"bytes"`
	Errors       int64    `json:"errors"`
	MsgsPerSec   float64  `json:"msgs_per_sec"`
	MBPerSec     float64  `json:"mb_per_sec"`
	P50US        float64  `json:"p50_us"`
	P99US        float64  `json:"p99_us"`
	P999US       float64  `json:"p999_us"`
	MaxUS        float64  `json:"max_us"`
	MeanUS       float64  `json:"mean_us"`
	ErrorSamples []string `json:"error_samples"`
}

// WriteJSON writes r to w as one JSON object followed by a newline. The keys
// are stable: addr, conns, connected, size, pipeline, duration_us, messages,
// bytes, errors, msgs_per_sec, mb_per_sec, p50_us, p99_us, p999_us, max_us,
// mean_us and error_samples (always an array). Durations are microseconds as
// floating-point numbers.
func (r Result) WriteJSON(w io.Writer) error {
	samples := r.ErrorSamples
	if samples == nil {
		samples = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonResult{
		Addr:         r.Addr,
		Conns:        r.Conns,
		Connected:    r.Connected,
		Size:         r.Size,
		Pipeline:     r.Pipeline,
		DurationUS:   micros(r.Duration),
		Messages:     r.Messages,
		Bytes:        r.Bytes,
		Errors:       r.Errors,
		MsgsPerSec:   r.MsgsPerSec,
		MBPerSec:     r.MBPerSec,
		P50US:        micros(r.P50),
		P99US:        micros(r.P99),
		P999US:       micros(r.P999),
		MaxUS:        micros(r.Max),
		MeanUS:       micros(r.Mean),
		ErrorSamples: samples,
	})
}

// micros converts d to microseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// roundDuration rounds d to four significant digits for display.
func roundDuration(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 10000 {
		unit *= 10
	}
	return d.Round(unit)
}
