// Fuzz targets: the reader and the session table on arbitrary bytes. They
// must return errors, never panic, and keep their invariants; in plain
// `go test` they run their checked-in corpus (testdata/fuzz).

package nbfx

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/overlap-go/overlap/protocols/soap"
)

func FuzzReader(f *testing.F) {
	for _, ex := range nbfxExamples {
		f.Add(unhex(f, ex.hex))
	}
	sess := NewSession(SessionLimits{})
	if _, err := sess.AppendTable(nil, "action", "Inventory"); err != nil {
		f.Fatal(err)
	}
	lim := soap.Limits{MaxToken: 256, FillSize: 5, MaxDepth: 8, MaxNames: 512}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, frag := range []bool{false, true} {
			r := NewReader(bytes.NewReader(data), Config{Limits: lim, Dictionary: sess, Fragments: frag, Location: time.UTC})
			depth := 0
			for {
				tok, err := r.Next()
				if err == io.EOF {
					if depth != 0 {
						t.Fatalf("EOF with %d elements open", depth)
					}
					break
				}
				if err != nil {
					if _, ok := err.(*Error); !ok {
						t.Fatalf("error %v is %T, not *Error", err, err)
					}
					break
				}
				switch tok.Kind {
				case soap.StartElement:
					depth++
					if len(tok.Name.Local) == 0 {
						t.Fatalf("start element without a name")
					}
				case soap.EndElement:
					depth--
				case soap.Text:
					if len(tok.Text) > 4*lim.MaxToken {
						t.Fatalf("text of %d bytes", len(tok.Text))
					}
				}
				if depth < 0 || depth > lim.MaxDepth || depth != r.Depth() {
					t.Fatalf("depth %d, reader says %d", depth, r.Depth())
				}
			}
		}
	})
}

func FuzzSession(f *testing.F) {
	f.Add([]byte{0x11, 0x06, 'a', 'c', 't', 'i', 'o', 'n', 0x09, 'I', 'n', 'v', 'e', 'n', 't', 'o', 'r', 'y'})
	f.Add([]byte{0x04, 0x01, 'x', 0x01, 'x'})
	f.Add([]byte{0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSession(SessionLimits{MaxStrings: 16, MaxBytes: 256})
		for round := 0; round < 2 && len(data) > 0; round++ {
			before := s.Len()
			n, err := s.Apply(data)
			if err != nil {
				if s.Len() != before {
					t.Fatalf("failed Apply changed the table: %d strings, was %d", s.Len(), before)
				}
				return
			}
			if n <= 0 || n > len(data) {
				t.Fatalf("Apply used %d of %d bytes", n, len(data))
			}
			for i := 0; i < s.Len(); i++ {
				str, ok := s.Lookup(2*i + 1)
				if !ok {
					t.Fatalf("id %d missing", 2*i+1)
				}
				if id, ok := s.ID(str); !ok || (id != 2*i+1 && id&1 == 1) {
					t.Fatalf("ID(%q) = %d, %v; want %d", str, id, ok, 2*i+1)
				}
			}
			if s.Len() > 16 {
				t.Fatalf("%d strings past the limit", s.Len())
			}
			data = data[n:]
		}
	})
}
