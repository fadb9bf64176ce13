// Dictionaries: the static one of [MC-NBFS] (even ids) and the per-session
// string tables of [MC-NBFSE] (odd ids), carried at the start of each
// envelope in encoding 8, one table per direction.

package nbfx

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// StaticDictionary is the [MC-NBFS] dictionary: even ids only.
type StaticDictionary struct{}

// Lookup returns the string of an even id in the static table.
func (StaticDictionary) Lookup(id int) (string, bool) {
	if id < 0 || id&1 != 0 || id/2 >= len(staticStrings) {
		return "", false
	}
	return staticStrings[id/2], true
}

var staticIDs = func() map[string]int {
	m := make(map[string]int, len(staticStrings))
	for i, s := range staticStrings {
		if _, dup := m[s]; !dup {
			m[s] = 2 * i
		}
	}
	return m
}()

// ID returns the static id of s, if the dictionary has it.
func (StaticDictionary) ID(s string) (int, bool) {
	id, ok := staticIDs[s]
	return id, ok
}

// SessionLimits bound one direction's in-band string table. The zero
// value means the defaults.
type SessionLimits struct {
	// MaxStrings bounds the number of strings (default 4096).
	MaxStrings int
	// MaxBytes bounds their total length (default 256 KiB).
	MaxBytes int
}

// Defaults for SessionLimits.
const (
	DefaultMaxStrings = 4096
	DefaultMaxBytes   = 256 << 10
)

// ErrTableFull: a string table would pass SessionLimits.
var ErrTableFull = errors.New("in-band dictionary over its limit")

// Session is one direction's [MC-NBFSE] dictionary: the static strings
// under even ids, and the strings of every StringTable applied so far
// under odd ids, 1, 3, 5... in order. The zero value is not usable; create
// it with NewSession.
type Session struct {
	lim   SessionLimits
	strs  []string // strs[i] has id 2*i+1; one allocation per string, none per lookup
	bytes int      // total length of strs
	index map[string]int
}

// NewSession returns an empty session table with the given limits.
func NewSession(lim SessionLimits) *Session {
	if lim.MaxStrings <= 0 {
		lim.MaxStrings = DefaultMaxStrings
	}
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	return &Session{lim: lim, index: make(map[string]int)}
}

// Len returns how many in-band strings the session holds.
func (s *Session) Len() int { return len(s.strs) }

// Lookup resolves an id: even ids in the static dictionary, odd ones in
// the strings applied so far.
func (s *Session) Lookup(id int) (string, bool) {
	if id&1 == 0 {
		return StaticDictionary{}.Lookup(id)
	}
	i := id / 2
	if id < 0 || i >= len(s.strs) {
		return "", false
	}
	return s.strs[i], true
}

// ID returns the id of s: its static id, or its in-band one.
func (s *Session) ID(str string) (int, bool) {
	if id, ok := staticIDs[str]; ok {
		return id, true
	}
	id, ok := s.index[str]
	return id, ok
}

// Apply reads the StringTable at the start of an envelope, p, and adds its
// strings. It returns the bytes the table used; the binary XML document
// follows them. A table p does not hold entirely is an error wrapping
// io.ErrUnexpectedEOF (envelopes arrive whole, sized by the framing). On
// any error nothing is added.
func (s *Session) Apply(p []byte) (int, error) {
	size, n, err := decodeInt31(p)
	if err == errShort {
		return 0, &Error{Offset: 0, Msg: "string table: input ends inside its size", Err: io.ErrUnexpectedEOF}
	}
	if err != nil {
		return 0, &Error{Offset: 0, Msg: "string table: " + err.Error()}
	}
	if size > len(p)-n {
		return 0, &Error{Offset: int64(n), Msg: fmt.Sprintf("string table of %d bytes, only %d follow", size, len(p)-n), Err: io.ErrUnexpectedEOF}
	}
	table := p[n : n+size]
	// Validate everything first, so a bad table leaves the session as it was.
	count, total := 0, 0
	for off := 0; off < len(table); {
		l, m, err := decodeInt31(table[off:])
		if err != nil || l > len(table)-off-m {
			return 0, &Error{Offset: int64(n + off), Msg: "string table: a string runs past the table's size"}
		}
		str := table[off+m : off+m+l]
		if !utf8.Valid(str) {
			return 0, &Error{Offset: int64(n + off), Msg: "string table: a string is not UTF-8"}
		}
		if _, dup := s.index[string(str)]; dup {
			return 0, &Error{Offset: int64(n + off), Msg: fmt.Sprintf("string table: %q was already in a table", str)}
		}
		count++
		total += l
		off += m + l
	}
	if len(s.strs)+count > s.lim.MaxStrings || s.bytes+total > s.lim.MaxBytes {
		return 0, &Error{Offset: 0, Err: ErrTableFull, Msg: fmt.Sprintf(
			"string table: %d strings, %d bytes would pass the limit of %d strings, %d bytes",
			len(s.strs)+count, s.bytes+total, s.lim.MaxStrings, s.lim.MaxBytes)}
	}
	start := len(s.strs)
	for off := 0; off < len(table); {
		l, m, _ := decodeInt31(table[off:])
		str := table[off+m : off+m+l]
		if _, dup := s.index[string(str)]; dup { // twice in this table
			s.undo(start)
			return 0, &Error{Offset: int64(n + off), Msg: fmt.Sprintf("string table: %q twice", str)}
		}
		s.add(string(str))
		off += m + l
	}
	return n + size, nil
}

// undo drops the strings from index start on.
func (s *Session) undo(start int) {
	for _, str := range s.strs[start:] {
		delete(s.index, str)
		s.bytes -= len(str)
	}
	s.strs = s.strs[:start]
}

func (s *Session) add(str string) {
	s.strs = append(s.strs, str)
	s.bytes += len(str)
	s.index[str] = 2*(len(s.strs)-1) + 1
}

// AppendTable appends the StringTable announcing strs, and adds them to
// the session: the writer's side. Strings the session already has, or
// duplicates, are an error, as are strings past the limits.
func (s *Session) AppendTable(b []byte, strs ...string) ([]byte, error) {
	size, total := 0, 0
	for i, str := range strs {
		if _, dup := s.index[str]; dup {
			return b, fmt.Errorf("nbfx: string table: %q is already in the session", str)
		}
		for _, prev := range strs[:i] {
			if prev == str {
				return b, fmt.Errorf("nbfx: string table: %q twice", str)
			}
		}
		size += sizeLen(len(str)) + len(str)
		total += len(str)
	}
	if len(s.strs)+len(strs) > s.lim.MaxStrings || s.bytes+total > s.lim.MaxBytes || size > MaxInt31 {
		return b, fmt.Errorf("nbfx: string table: %w", ErrTableFull)
	}
	b = AppendInt31(b, size)
	for _, str := range strs {
		b = AppendInt31(b, len(str))
		b = append(b, str...)
		s.add(str)
	}
	return b, nil
}

func sizeLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}
