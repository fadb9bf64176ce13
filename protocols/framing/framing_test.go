package framing

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

type got struct {
	body    string
	limited bool
}

// split feeds in to a splitter in chunks of the given sizes (cycled) and
// returns what it emitted, whether it stopped, and the rest.
func split(mode Framing, max int, in []byte, chunks ...int) (out []got, ok bool, rest []byte) {
	s := NewSplitter(mode, max)
	ok = true
	emit := func(b []byte, limited bool) { out = append(out, got{string(b), limited}) }
	for i := 0; len(in) > 0 && ok; i++ {
		n := len(in)
		if len(chunks) > 0 {
			n = min(n, chunks[i%len(chunks)])
		}
		ok = s.Feed(in[:n], emit)
		in = in[n:]
	}
	if ok && s.Pending() {
		rest = s.Rest()
	}
	return out, ok, rest
}

func frame(bodies ...string) []byte {
	var b []byte
	for _, s := range bodies {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name   string
		mode   Framing
		max    int
		in     []byte
		want   []got
		ok     bool
		rest   string
		chunks []int
	}{
		{"close keeps everything", Close, 100, []byte("a\nb\x00c"), nil, true, "a\nb\x00c", nil},
		{"close over the limit", Close, 4, []byte("abcdef"), []got{{"abcd", true}}, false, "", nil},
		{"close exactly the limit", Close, 4, []byte("abcd"), nil, true, "abcd", []int{1}},
		{"lines", Lines, 100, []byte("one\ntwo\n\nthree"), []got{{"one", false}, {"two", false}, {"", false}}, true, "three", nil},
		{"lines bytewise", Lines, 100, []byte("one\ntwo\n"), []got{{"one", false}, {"two", false}}, true, "", []int{1}},
		{"lines keep CR", Lines, 100, []byte("a\r\n"), []got{{"a\r", false}}, true, "", nil},
		{"line over the limit", Lines, 3, []byte("ab\nabcdef\nx\n"), []got{{"ab", false}, {"abc", true}}, false, "", nil},
		{"line over the limit across reads", Lines, 3, []byte("abcd\n"), []got{{"abc", true}}, false, "", []int{2}},
		{"line exactly the limit", Lines, 3, []byte("abc\n"), []got{{"abc", false}}, true, "", []int{2}},
		{"length", Length, 100, frame("hello", "", "x"), []got{{"hello", false}, {"", false}, {"x", false}}, true, "", nil},
		{"length bytewise", Length, 100, frame("hello", "world"), []got{{"hello", false}, {"world", false}}, true, "", []int{1}},
		{"length truncated body", Length, 100, frame("hello")[:6], nil, true, "he", nil},
		{"length truncated prefix", Length, 100, []byte{0, 0}, nil, true, "", nil},
		{"length over the limit", Length, 3, frame("abcdef"), []got{{"abc", true}}, false, "", []int{2}},
		{"length huge prefix", Length, 3, []byte{0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'}, []got{{"abc", true}}, false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok, rest := split(tt.mode, tt.max, tt.in, tt.chunks...)
			if fmt.Sprint(out) != fmt.Sprint(tt.want) || ok != tt.ok || string(rest) != tt.rest {
				t.Fatalf("got %+v ok=%v rest=%q; want %+v ok=%v rest=%q", out, ok, rest, tt.want, tt.ok, tt.rest)
			}
		})
	}
}

func TestPendingSeesPartialPrefix(t *testing.T) {
	s := NewSplitter(Length, 10)
	s.Feed([]byte{0, 0}, func([]byte, bool) { t.Fatal("no record yet") })
	if !s.Pending() {
		t.Fatal("two bytes of a prefix are pending data")
	}
}

func TestFeedAfterLimitConsumesNothing(t *testing.T) {
	s := NewSplitter(Close, 2)
	n := 0
	emit := func([]byte, bool) { n++ }
	if s.Feed([]byte("abc"), emit) || s.Feed([]byte("d"), emit) || n != 1 || s.Pending() {
		t.Fatalf("after the limit the stream is over: emitted %d, pending %v", n, s.Pending())
	}
}

// TestCloseBufferNeverDoubles: a record at the limit does not hold a buffer
// twice its size.
func TestCloseBufferNeverDoubles(t *testing.T) {
	const max = 1 << 20
	s := NewSplitter(Close, max)
	chunk := make([]byte, 3000)
	for i := 0; i < max/len(chunk); i++ {
		s.Feed(chunk, nil)
	}
	if c := cap(s.buf); c > max {
		t.Fatalf("buffer capacity %d passes the limit %d", c, max)
	}
}

// reference splits a whole stream the obvious way.
func reference(mode Framing, max int, in []byte) (out []got, ok bool, rest []byte) {
	switch mode {
	case Close:
		if len(in) > max {
			return []got{{string(in[:max]), true}}, false, nil
		}
		if len(in) > 0 {
			rest = in
		}
		return nil, true, rest
	case Lines:
		for {
			i := bytes.IndexByte(in, '\n')
			if i < 0 {
				if len(in) > max {
					return append(out, got{string(in[:max]), true}), false, nil
				}
				if len(in) > 0 {
					rest = in
				}
				return out, true, rest
			}
			if i > max {
				return append(out, got{string(in[:max]), true}), false, nil
			}
			out = append(out, got{string(in[:i]), false})
			in = in[i+1:]
		}
	}
	for {
		if len(in) < 4 {
			if len(in) > 0 {
				return out, true, []byte{}
			}
			return out, true, nil
		}
		n := int(binary.BigEndian.Uint32(in))
		in = in[4:]
		if n > max {
			if len(in) >= max {
				return append(out, got{string(in[:max]), true}), false, nil
			}
			return out, true, in
		}
		if len(in) < n {
			return out, true, in
		}
		out = append(out, got{string(in[:n]), false})
		in = in[n:]
	}
}

// FuzzSplitter: however the stream is cut into reads, the records are
// those of the whole stream, split the obvious way.
func FuzzSplitter(f *testing.F) {
	f.Add(uint8(0), uint8(8), []byte("hello world"), uint64(1))
	f.Add(uint8(1), uint8(4), []byte("a\nbb\nccccc\n\nd"), uint64(2))
	f.Add(uint8(2), uint8(16), frame("abc", "", "0123456789abcdef0"), uint64(3))
	f.Add(uint8(2), uint8(2), []byte{0, 0, 0}, uint64(4))
	f.Fuzz(func(t *testing.T, m, max uint8, in []byte, seed uint64) {
		mode := Framing(m % 3)
		limit := int(max%64) + 1
		want, wok, wrest := reference(mode, limit, in)
		r := rand.New(rand.NewPCG(seed, seed))
		s := NewSplitter(mode, limit)
		var out []got
		ok := true
		emit := func(b []byte, limited bool) { out = append(out, got{string(b), limited}) }
		for p := in; len(p) > 0 && ok; {
			n := min(len(p), 1+r.IntN(8))
			ok = s.Feed(p[:n], emit)
			p = p[n:]
		}
		var rest []byte
		if ok && s.Pending() {
			rest = s.Rest()
		}
		if fmt.Sprint(out) != fmt.Sprint(want) || ok != wok || !bytes.Equal(rest, wrest) || (rest == nil) != (wrest == nil) {
			t.Fatalf("mode %v max %d: got %+v ok=%v rest=%q; want %+v ok=%v rest=%q", mode, limit, out, ok, rest, want, wok, wrest)
		}
	})
}
