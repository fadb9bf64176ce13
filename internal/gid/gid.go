// Package gid tells which goroutine is running, so that a blocking call can
// refuse to wait on itself (socket Close from inside a completion callback).
package gid

import "runtime"

// Current returns the ID of the calling goroutine.
//
// Go deliberately hides goroutine IDs; the only portable way to read one is
// the header line of runtime.Stack ("goroutine 42 [running]:"). It costs
// about a microsecond, so callers use it off the hot path only (Close).
func Current() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = len("goroutine ")
	if len(b) <= prefix {
		return 0
	}
	var id uint64
	for _, c := range b[prefix:] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
