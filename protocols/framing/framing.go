// Package framing is the recorder's wire format: how a byte stream from a
// client is cut into record bodies. It is a pure codec, without I/O:
// bytes go in, bodies come out.
//
// Three framings, as users of TCP sinks expect:
//
//   - Close: the whole connection is one record (seed 004's behaviour);
//   - Lines: one record per line ending in '\n' (the '\n' is not kept),
//     like the socket inputs of log shippers;
//   - Length: each record is a 4-byte big-endian length, then that many bytes.
//
// A record longer than the size limit keeps its first limit bytes, is
// marked limited, and ends the stream: the caller closes the connection.
package framing

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Framing selects how a stream is cut into records.
type Framing uint8

// The framings.
const (
	Close Framing = iota
	Lines
	Length
)

// String returns the framing's flag value.
func (f Framing) String() string {
	switch f {
	case Close:
		return "close"
	case Lines:
		return "lines"
	case Length:
		return "length"
	}
	return fmt.Sprintf("Framing(%d)", uint8(f))
}

// ParseFraming parses a flag value: close, lines or length.
func ParseFraming(s string) (Framing, error) {
	for _, f := range []Framing{Close, Lines, Length} {
		if s == f.String() {
			return f, nil
		}
	}
	return 0, fmt.Errorf("framing %q: want close, lines or length", s)
}

// EmitFunc receives one record body. body is valid only during the call (it
// may alias the input or the splitter's buffer); limited says the record
// passed the size limit and body holds its first bytes.
type EmitFunc func(body []byte, limited bool)

// Splitter cuts one stream into records. Its zero value is not ready: use
// NewSplitter.
type Splitter struct {
	mode  Framing
	max   int
	buf   []byte  // the incomplete record so far
	hdr   [4]byte // length mode: the prefix being read
	nhdr  int     // bytes of hdr read
	need  int     // length mode: body bytes the current frame declares
	ended bool    // a record passed the limit: the stream is over
}

// NewSplitter returns a splitter for one stream; max bounds a record's size
// (max > 0).
func NewSplitter(mode Framing, max int) *Splitter {
	return &Splitter{mode: mode, max: max}
}

// Feed consumes p, calling emit for each record it completes. It returns
// false once a record has passed the limit: that record was emitted with
// limited set, the rest of p was not consumed, and the stream is over.
func (s *Splitter) Feed(p []byte, emit EmitFunc) bool {
	if s.ended {
		return false
	}
	switch s.mode {
	case Lines:
		return s.feedLines(p, emit)
	case Length:
		return s.feedLength(p, emit)
	}
	if room := s.max - len(s.buf); len(p) > room {
		s.buf = s.grow(s.buf, room)
		s.buf = append(s.buf, p[:room]...)
		return s.cut(emit)
	}
	s.buf = s.grow(s.buf, len(p))
	s.buf = append(s.buf, p...)
	return true
}

func (s *Splitter) feedLines(p []byte, emit EmitFunc) bool {
	for len(p) > 0 {
		i := indexNL(p)
		if i < 0 {
			if room := s.max - len(s.buf); len(p) > room {
				s.buf = append(s.grow(s.buf, room), p[:room]...)
				return s.cut(emit)
			}
			s.buf = append(s.grow(s.buf, len(p)), p...)
			return true
		}
		line := p[:i]
		p = p[i+1:]
		if len(s.buf)+len(line) > s.max {
			room := s.max - len(s.buf)
			s.buf = append(s.grow(s.buf, room), line[:room]...)
			return s.cut(emit)
		}
		if len(s.buf) == 0 {
			emit(line, false) // the common case: no copy
			continue
		}
		s.buf = append(s.grow(s.buf, len(line)), line...)
		emit(s.buf, false)
		s.buf = s.buf[:0]
	}
	return true
}

func (s *Splitter) feedLength(p []byte, emit EmitFunc) bool {
	for len(p) > 0 {
		if s.nhdr < 4 {
			n := copy(s.hdr[s.nhdr:], p)
			s.nhdr += n
			p = p[n:]
			if s.nhdr < 4 {
				return true
			}
			s.need = int(binary.BigEndian.Uint32(s.hdr[:]))
			if s.need == 0 {
				emit(nil, false)
				s.nhdr = 0
				continue
			}
		}
		want := min(s.need, s.max) - len(s.buf)
		if len(s.buf) == 0 && len(p) >= s.need && s.need <= s.max {
			emit(p[:s.need], false) // whole frame in p: no copy
			p = p[s.need:]
			s.nhdr = 0
			continue
		}
		n := min(want, len(p))
		s.buf = append(s.grow(s.buf, n), p[:n]...)
		p = p[n:]
		if len(s.buf) < min(s.need, s.max) {
			continue
		}
		if s.need > s.max {
			return s.cut(emit)
		}
		emit(s.buf, false)
		s.buf, s.nhdr = s.buf[:0], 0
	}
	return true
}

// cut emits the buffered record as limited and ends the stream.
func (s *Splitter) cut(emit EmitFunc) bool {
	emit(s.buf, true)
	s.buf, s.ended = nil, true
	return false
}

// grow makes room for n more bytes in b, growing geometrically but never
// past the limit, so a 64 MiB record never holds a 128 MiB buffer.
func (s *Splitter) grow(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	c := min(max(2*cap(b), len(b)+n, 512), max(s.max, len(b)+n))
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// Pending reports whether part of a record has been received: bytes of a
// line or frame, or of a length prefix. In Close mode it is true once any
// byte has arrived.
func (s *Splitter) Pending() bool { return !s.ended && (len(s.buf) > 0 || s.nhdr > 0) }

// Rest returns the incomplete record received so far (for Close mode, the
// whole body) and resets it. The caller stores it as ended by however the
// stream ended: nothing received is lost.
func (s *Splitter) Rest() []byte {
	b := s.buf
	s.buf, s.nhdr, s.need = nil, 0, 0
	if b == nil {
		b = []byte{}
	}
	return b
}

func indexNL(p []byte) int { return bytes.IndexByte(p, '\n') }
