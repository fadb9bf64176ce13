// Heap: the seed's WS_HEAP. Decoded strings are carved out of one buffer of
// fixed capacity, so reading one element costs no allocation and at most
// the heap's size; Reset reclaims it all for the next element.

package soap

import "unsafe"

// Heap holds the strings of decoded values, up to a fixed size.
//
// A string from a Heap shares the heap's memory: it is valid only until
// Reset. Copy it (strings.Clone) to keep it longer.
type Heap struct{ buf []byte }

// DefaultHeapSize is the seed's heap: 1024 bytes per element.
const DefaultHeapSize = 1024

// NewHeap returns a heap of max bytes.
func NewHeap(max int) *Heap { return &Heap{buf: make([]byte, 0, max)} }

// Reset frees every string of the heap.
func (h *Heap) Reset() { h.buf = h.buf[:0] }

// Used returns the bytes in use.
func (h *Heap) Used() int { return len(h.buf) }

// add appends b to the current value; it fails when the heap is full.
func (h *Heap) add(b []byte) error {
	if len(h.buf)+len(b) > cap(h.buf) {
		return ErrQuotaExceeded
	}
	h.buf = append(h.buf, b...)
	return nil
}

// since returns the bytes added from mark as a string sharing the heap.
func (h *Heap) since(mark int) string {
	if len(h.buf) == mark {
		return ""
	}
	return unsafe.String(&h.buf[mark], len(h.buf)-mark)
}
