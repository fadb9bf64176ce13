// The reader on malformed and over-limit input, round trips from the
// writer, Reset, and the session table's limits.

package nbfx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/overlap-go/overlap/protocols/soap"
)

func TestReadErrors(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		lim       soap.Limits
		want      string // in the message
		is        error  // errors.Is, if set
	}{
		{"reserved record", "00", soap.Limits{}, "byte 0: unknown record type 0x00", nil},
		{"attribute alone", "04 01 61 A8", soap.Limits{}, "not after an element", nil},
		{"end with nothing open", "01", soap.Limits{}, "no element open", nil},
		{"unbound prefix", "5E 01 61 01", soap.Limits{}, `unbound prefix "a"`, nil},
		{"truncated name", "40 03 64 6F", soap.Limits{}, "input ended", io.ErrUnexpectedEOF},
		{"unclosed", "40 01 61", soap.Limits{}, "input ended", io.ErrUnexpectedEOF},
		{"empty input", "", soap.Limits{}, "input ended", io.ErrUnexpectedEOF},
		{"bad UTF-8 name", "40 01 FF 01", soap.Limits{}, "byte 1: string is not UTF-8", nil},
		{"bad UTF-8 text", "40 01 61 99 02 C3 28", soap.Limits{}, "text is not UTF-8", nil},
		{"unknown dictionary id", "42 F1 0F 01", soap.Limits{}, "dictionary string 2033 is not in the dictionary", nil},
		{"second root", "40 01 61 01 40 01 62 01", soap.Limits{}, "a second root element", nil},
		{"text outside root", "98 01 61", soap.Limits{}, "outside the root element", nil},
		{"bool 2", "40 01 61 B5 02", soap.Limits{}, "neither 0 nor 1", nil},
		{"list in list", "40 01 61 04 01 62 A4 A4 A6 A6 01", soap.Limits{}, "a list inside a list", nil},
		{"end-element record as attribute value", "40 01 61 04 01 62 99 00 01", soap.Limits{}, "not a text record", nil},
		{"array of none", "03 40 01 61 01 8D 00", soap.Limits{}, "array of no values", nil},
		{"array of chars", "03 40 01 61 01 99 01", soap.Limits{}, "array of record type 0x99", nil},
		{"array without end", "03 40 01 61 8D 01", soap.Limits{}, "not EndElement", nil},
		{"int31 over 31 bits", "40 FF FF FF FF 7F", soap.Limits{}, "over 31 bits", nil},
		{"datetime zone 3", "40 01 61 97 00 00 00 00 00 00 00 C0", soap.Limits{}, "out of range", nil},
		{"odd UTF-16", "40 01 61 B7 03 61 00 62", soap.Limits{}, "odd length", nil},
		{"unpaired surrogate", "40 01 61 B7 02 00 D8", soap.Limits{}, "unpaired surrogate", nil},
		{"negative chars32", "40 01 61 9D FF FF FF FF", soap.Limits{}, "negative length", nil},
		{"huge chars32", "40 01 61 9D 00 00 00 40", soap.Limits{}, "over the limit of 1024", soap.ErrTokenTooLarge},
		{"huge string", "40 FF FF FF FF 07", soap.Limits{}, "over the limit", soap.ErrTokenTooLarge},
		{"too deep", "40 01 61 40 01 62 40 01 63 01 01 01", soap.Limits{MaxDepth: 2}, "deeper than 2", soap.ErrTooDeep},
		{"names over limit", "40 04 61 61 61 61 40 04 62 62 62 62 01 01", soap.Limits{MaxNames: 6}, "names and namespaces in scope", nil},
		{"attributes over the token", "40 01 61" + strings.Repeat(" 04 01 62 98 05 68 65 6C 6C 6F", 10) + " 01",
			soap.Limits{MaxToken: 64}, "over the limit of 64", soap.ErrTokenTooLarge},
		// Dictionary text expands; the values of one token are bounded.
		{"values over the limit", "40 01 61 04 01 62 A4" + strings.Repeat(" AA 48", 40) + " A6 01",
			soap.Limits{MaxToken: 128}, "values are over the limit of 512", soap.ErrTokenTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(unhex(t, c.hex)), Config{Limits: c.lim})
			_, err := render(r)
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v is not %v", err, c.is)
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after an error returned %v, want the same error", again)
			}
		})
	}
}

// gen writes a random document with w and returns what it reads as.
func gen(rng *rand.Rand, w *Writer, sb *strings.Builder, depth int) {
	locals := []string{"Envelope", "Body", "Action", "order", "item", "x", "Inventory"}
	uris := []string{soap.NSEnvelope, soap.NSAddressing, "urn:orders", "http://example.com/é"}
	local := locals[rng.Intn(len(locals))]
	prefix, uri := "", ""
	switch rng.Intn(3) {
	case 1:
		prefix, uri = "s", uris[rng.Intn(len(uris))]
	case 2:
		prefix, uri = "ord", uris[rng.Intn(len(uris))]
	}
	w.StartElement(prefix, local)
	if prefix != "" {
		w.Xmlns(prefix, uri)
	}
	qn := local
	if uri != "" {
		qn = "{" + uri + "}" + local
	}
	sb.WriteString("<" + qn)
	for i := rng.Intn(3); i > 0; i-- {
		name := fmt.Sprintf("a%d", i)
		switch rng.Intn(3) {
		case 0:
			v := rng.Int63n(1<<40) - 1<<39
			w.AttrInt("", name, v)
			fmt.Fprintf(sb, ` %s="%d"`, name, v)
		case 1:
			w.AttrBool("", name, i%2 == 0)
			fmt.Fprintf(sb, ` %s="%v"`, name, i%2 == 0)
		default:
			v := strings.Repeat("v<&é", rng.Intn(4))
			w.Attr("", name, v)
			fmt.Fprintf(sb, ` %s="%s"`, name, v)
		}
	}
	sb.WriteString(">")
	if depth < 4 {
		for i := rng.Intn(3); i > 0; i-- {
			gen(rng, w, sb, depth+1)
		}
	}
	switch rng.Intn(4) {
	case 0:
		v := []int64{0, 1, -1, 127, -129, 40000, -3e9, 1 << 62}[rng.Intn(8)]
		w.TextInt(v)
		fmt.Fprintf(sb, "%d", v)
	case 1:
		s := strings.Repeat("text ", rng.Intn(70)) // over 255 bytes: Chars16
		w.Text(s)
		sb.WriteString(s)
	case 2:
		w.TextBool(true)
		sb.WriteString("true")
	}
	w.EndElement()
	sb.WriteString("</" + qn + ">")
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	r := NewReader(nil, Config{Limits: soap.Limits{FillSize: 7}})
	for i := 0; i < 300; i++ {
		var w Writer
		if i%2 == 0 {
			w.Dict = StaticDictionary{}
		}
		var sb strings.Builder
		gen(rng, &w, &sb, 0)
		r.Reset(bytes.NewReader(w.Buf))
		got, err := render(r)
		if err != nil || got != sb.String() {
			t.Fatalf("document %d (% X):\n got %s, %v\nwant %s", i, w.Buf, got, err, sb.String())
		}
	}
}

func TestUniqueIDRoundTrip(t *testing.T) {
	var w Writer
	w.StartElement("", "MessageID")
	w.TextUniqueID([16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 7})
	w.EndElement()
	got, err := render(NewReader(bytes.NewReader(w.Buf), Config{}))
	if want := "<MessageID>urn:uuid:01234567-89ab-cdef-0001-020304050607</MessageID>"; err != nil || got != want {
		t.Fatalf("got %s, %v; want %s", got, err, want)
	}
}

func TestSessionLimitsAndErrors(t *testing.T) {
	table := func(strs ...string) []byte {
		var body []byte
		for _, s := range strs {
			body = AppendInt31(body, len(s))
			body = append(body, s...)
		}
		return append(AppendInt31(nil, len(body)), body...)
	}
	s := NewSession(SessionLimits{MaxStrings: 3, MaxBytes: 10})
	if _, err := s.Apply(table("ab", "cd")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		p    []byte
		want string
	}{
		{"count", table("e", "f"), "limit of 3 strings"},
		{"bytes", table("efghijk"), "limit of 3 strings, 10 bytes"},
		{"seen before", table("ab"), `"ab" was already in a table`},
		{"short", table("xyz")[:3], "only 2 follow"},
		{"runs past", []byte{2, 5, 'a'}, "runs past"},
		{"not UTF-8", table("\xff"), "not UTF-8"},
		{"empty input", nil, "inside its size"},
	} {
		n, err := s.Apply(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Apply = %d, %v; want an error saying %q", c.name, n, err, c.want)
		}
		if s.Len() != 2 {
			t.Fatalf("%s: a failed Apply left %d strings, want 2", c.name, s.Len())
		}
	}
	fresh := NewSession(SessionLimits{})
	if _, err := fresh.Apply(table("x", "y", "x")); err == nil || !strings.Contains(err.Error(), `"x" twice`) || fresh.Len() != 0 {
		t.Fatalf("a table with a string twice: %v, %d strings kept", err, fresh.Len())
	}
	if _, err := s.Apply(table("ef")); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Lookup(5); !ok || got != "ef" {
		t.Fatalf("Lookup(5) = %q, %v", got, ok)
	}
	if id, ok := s.ID("cd"); !ok || id != 3 {
		t.Fatalf("ID(cd) = %d, %v", id, ok)
	}
	if id, ok := s.ID("Envelope"); !ok || id != 2 {
		t.Fatalf("ID(Envelope) = %d, %v", id, ok)
	}
	if _, err := s.AppendTable(nil, "gh"); !errors.Is(err, ErrTableFull) {
		t.Fatalf("AppendTable past the limit: %v", err)
	}
}

func TestStaticDictionary(t *testing.T) {
	d := StaticDictionary{}
	for id, want := range map[int]string{0: "mustUnderstand", 4: soap.NSEnvelope, 6: soap.NSAddressing,
		0x14: soap.Anonymous, 0xC6: soap.FaultAction, 0x3CC: "detail"} {
		if got, ok := d.Lookup(id); !ok || got != want {
			t.Errorf("Lookup(%#x) = %q, %v; want %q", id, got, ok, want)
		}
		if got, ok := d.ID(want); !ok || got != id {
			t.Errorf("ID(%q) = %#x, %v; want %#x", want, got, ok, id)
		}
	}
	for _, id := range []int{1, -2, 0x3CE} {
		if s, ok := d.Lookup(id); ok {
			t.Errorf("Lookup(%#x) = %q, want none", id, s)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var w Writer
	w.Dict = StaticDictionary{}
	w.StartElement("s", "Envelope")
	w.Xmlns("s", soap.NSEnvelope)
	w.StartElement("s", "Body")
	for i := 0; i < 100; i++ {
		w.StartElement("", "item")
		w.AttrInt("", "n", int64(i))
		w.Text("some text")
		w.EndElement()
	}
	w.EndElement()
	w.EndElement()
	src := bytes.NewReader(w.Buf)
	r := NewReader(src, Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(w.Buf)))
	for i := 0; i < b.N; i++ {
		src.Reset(w.Buf)
		r.Reset(src)
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
