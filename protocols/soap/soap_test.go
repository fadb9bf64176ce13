package soap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

const nsPO = "http://example.org"

type order struct {
	Quantity int32
	Product  string
}

func appendOrder(b []byte, o order) []byte {
	b = append(b, `<PurchaseOrderType xmlns="http://example.org"><quantity>`...)
	b = AppendInt(b, int64(o.Quantity))
	b = append(b, `</quantity><productName>`...)
	b = AppendText(b, o.Product)
	return append(b, `</productName></PurchaseOrderType>`...)
}

// readOrder decodes a PurchaseOrderType whose start was just read, as the
// generated code does.
func readOrder(r *Reader, h *Heap) (order, error) {
	var o order
	for {
		t, ok, err := r.NextChild()
		if err != nil || !ok {
			return o, err
		}
		switch {
		case t.Name.Is(nsPO, "quantity"):
			v, err := r.ReadInt(32)
			if err != nil {
				return o, err
			}
			o.Quantity = int32(v)
		case t.Name.Is(nsPO, "productName"):
			if o.Product, err = r.ReadString(h); err != nil {
				return o, err
			}
		default:
			if err := r.Skip(); err != nil {
				return o, err
			}
		}
	}
}

func envelope(h *Headers, orders ...order) []byte {
	b := AppendEnvelopeStart(nil, h)
	for _, o := range orders {
		b = appendOrder(b, o)
	}
	return AppendEnvelopeEnd(b)
}

var poHeaders = Headers{
	Action:    "http://example.org/purchaseorder",
	To:        "net.tcp://localhost/example",
	MessageID: "urn:uuid:6c9d0b5e-1c2d-4a8e-9a4c-0d7f2b1c3e4f",
	ReplyTo:   Anonymous,
}

func readAll(src io.Reader, lim Limits) (*Headers, []order, error) {
	r := NewReader(NewTextReader(src, lim))
	h, err := r.ReadStart()
	if err != nil {
		return nil, nil, err
	}
	heap := NewHeap(DefaultHeapSize)
	var out []order
	for {
		t, ok, err := r.NextChild()
		if err != nil {
			return h, out, err
		}
		if !ok {
			break
		}
		if !t.Name.Is(nsPO, "PurchaseOrderType") {
			if err := r.Skip(); err != nil {
				return h, out, err
			}
			continue
		}
		o, err := readOrder(r, heap)
		if err != nil {
			return h, out, err
		}
		o.Product = strings.Clone(o.Product)
		heap.Reset()
		out = append(out, o)
	}
	return h, out, r.ReadEnd()
}

func TestEnvelopeRoundTrip(t *testing.T) {
	orders := []order{{1, "Pencil"}, {-20, "Paper <A4> & \"ink\""}, {2147483647, "Ünïcödé ✓"}}
	wire := envelope(&poHeaders, orders...)
	for _, src := range []io.Reader{bytes.NewReader(wire), iotest.OneByteReader(bytes.NewReader(wire)), iotest.HalfReader(bytes.NewReader(wire))} {
		h, got, err := readAll(src, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if *h != poHeaders {
			t.Fatalf("headers %+v", *h)
		}
		if fmt.Sprint(got) != fmt.Sprint(orders) {
			t.Fatalf("orders %v", got)
		}
	}
}

// A message as WCF writes it: other prefixes, a default namespace on the
// body element, an XML declaration, whitespace, a comment, CDATA, character
// references, and headers we do not know and need not understand.
const wcfMessage = `<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <env:Header>
    <wsa:Action env:mustUnderstand="true">http://example.org/purchaseorder</wsa:Action>
    <x:Trace xmlns:x="urn:trace">abc</x:Trace>
    <wsa:To env:mustUnderstand="1">net.tcp://localhost/example</wsa:To>
  </env:Header>
  <env:Body>
    <!-- two orders -->
    <po:PurchaseOrderType xmlns:po="http://example.org"><po:quantity> 7 </po:quantity><po:productName><![CDATA[a<b]]>&#x41;&#66;&amp;</po:productName></po:PurchaseOrderType>
    <PurchaseOrderType xmlns="http://example.org"><quantity>+8</quantity><productName/><extra><deep/></extra></PurchaseOrderType>
  </env:Body>
</env:Envelope>
`

func TestReadForeignMessage(t *testing.T) {
	h, got, err := readAll(strings.NewReader(wcfMessage), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Action != "http://example.org/purchaseorder" || h.To != "net.tcp://localhost/example" {
		t.Fatalf("headers %+v", h)
	}
	want := []order{{7, "a<bAB&"}, {8, ""}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReadRefuses(t *testing.T) {
	body := func(s string) string {
		return `<s:Envelope xmlns:s="` + NSEnvelope + `"><s:Body>` + s + `</s:Body></s:Envelope>`
	}
	cases := []struct {
		name string
		doc  string
		code string // fault code, or "" for a syntax error
		is   error
	}{
		{"soap 1.1", `<s:Envelope xmlns:s="` + NSEnvelope11 + `"><s:Body/></s:Envelope>`, CodeVersionMismatch, nil},
		{"not an envelope", `<a/>`, CodeSender, nil},
		{"no body", `<s:Envelope xmlns:s="` + NSEnvelope + `"></s:Envelope>`, CodeSender, nil},
		{"must understand", `<s:Envelope xmlns:s="` + NSEnvelope + `"><s:Header><x:H xmlns:x="urn:x" s:mustUnderstand="1"/></s:Header><s:Body/></s:Envelope>`, CodeMustUnderstand, nil},
		{"text in body", body(`hello`), CodeSender, nil},
		{"bad int", body(`<PurchaseOrderType xmlns="http://example.org"><quantity>2147483648</quantity></PurchaseOrderType>`), CodeSender, nil},
		{"element in a value", body(`<PurchaseOrderType xmlns="http://example.org"><quantity><x/></quantity></PurchaseOrderType>`), CodeSender, nil},
		{"mismatched tags", body(`<a></b>`), "", nil},
		{"unbound prefix", body(`<p:a/>`), "", nil},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "aaaa">]><x/>`, "", nil},
		{"unknown entity", body(`<a>&bomb;</a>`), "", nil},
		{"bad char ref", body(`<a>&#0;</a>`), "", nil},
		{"not utf-8", body("<a>\xff</a>"), "", nil},
		{"utf-16 declared", `<?xml version="1.0" encoding="utf-16"?><x/>`, "", nil},
		{"two roots", `<s:Envelope xmlns:s="` + NSEnvelope + `"><s:Body/></s:Envelope><b/>`, "", nil},
		{"truncated", body(`<PurchaseOrderType xmlns="http://example.org"><quantity>1</quantity>`)[:120], "", io.ErrUnexpectedEOF},
		{"token over the cap", body(`<PurchaseOrderType xmlns="http://example.org"><productName>` + strings.Repeat("x", 2000) + `</productName></PurchaseOrderType>`), "", ErrTokenTooLarge},
		{"too deep", body(strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)), "", ErrTooDeep},
		{"heap quota", body(`<PurchaseOrderType xmlns="http://example.org"><productName>` + strings.Repeat("x", 900) + `</productName><productName>` + strings.Repeat("y", 900) + `</productName></PurchaseOrderType>`), "", ErrQuotaExceeded},
	}
	for _, c := range cases {
		_, _, err := readAll(strings.NewReader(c.doc), Limits{})
		var f *Fault
		var se *SyntaxError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.code != "":
			if !errors.As(err, &f) || f.Code != c.code {
				t.Errorf("%s: got %v, want fault %s", c.name, err, c.code)
			}
		case c.is != nil:
			if !errors.Is(err, c.is) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.is)
			}
		default:
			if !errors.As(err, &se) {
				t.Errorf("%s: got %v (%T), want a syntax error", c.name, err, err)
			}
		}
	}
}

func TestTruncatedAnywhere(t *testing.T) {
	wire := envelope(&poHeaders, order{3, "Pen"}, order{4, "Ink"})
	for cut := 0; cut < len(wire); cut++ {
		_, _, err := readAll(bytes.NewReader(wire[:cut]), Limits{})
		if err == nil {
			t.Fatalf("cut at %d accepted", cut)
		}
	}
}

func TestFaultRoundTrip(t *testing.T) {
	f := &Fault{Code: CodeSender, SubcodeSpace: nsPO, Subcode: "OrderNotFound", Reason: "no order 42 <here>",
		Detail: []byte(`<OrderNotFoundFaultType xmlns="http://example.org"><orderID>42</orderID></OrderNotFoundFaultType>`)}
	b := AppendEnvelopeStart(nil, &Headers{Action: "http://example.org/ordernotfound", RelatesTo: "urn:uuid:1"})
	b = AppendEnvelopeEnd(AppendFault(b, f))
	r := NewReader(NewTextReader(iotest.OneByteReader(bytes.NewReader(b)), Limits{}))
	h, err := r.ReadStart()
	if err != nil {
		t.Fatal(err)
	}
	if h.RelatesTo != "urn:uuid:1" {
		t.Fatalf("headers %+v", h)
	}
	tok, ok, err := r.NextChild()
	if err != nil || !ok || !tok.Name.Is(NSEnvelope, "Fault") {
		t.Fatalf("first body element: %v %v", ok, err)
	}
	var id uint64
	got, err := r.ReadFault(func(r *Reader, start *Token) error {
		if !start.Name.Is(nsPO, "OrderNotFoundFaultType") {
			return r.Skip()
		}
		for {
			t, ok, err := r.NextChild()
			if err != nil || !ok {
				return err
			}
			if t.Name.Is(nsPO, "orderID") {
				if id, err = r.ReadUint(32); err != nil {
					return err
				}
			} else if err := r.Skip(); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != CodeSender || got.Subcode != "OrderNotFound" || got.Reason != f.Reason || id != 42 {
		t.Fatalf("fault %+v, id %d", got, id)
	}
	if _, ok, err := r.NextChild(); ok || err != nil {
		t.Fatalf("after the fault: %v %v", ok, err)
	}
	if err := r.ReadEnd(); err != nil {
		t.Fatal(err)
	}
	anf := ActionNotSupported("urn:nope")
	if !strings.Contains(string(AppendFault(nil, anf)), "f:ActionNotSupported</s:Value>") {
		t.Fatal("ActionNotSupported subcode missing")
	}
}

func TestEscaping(t *testing.T) {
	got := string(AppendText(nil, "a<b>&c\"\r\x01\xff"))
	if got != "a&lt;b&gt;&amp;c\"&#xD;\uFFFD\uFFFD" {
		t.Fatalf("text %q", got)
	}
	if got := string(AppendAttr(nil, "\"\n\t")); got != "&quot;&#xA;&#x9;" {
		t.Fatalf("attr %q", got)
	}
}

// orderStream generates an envelope with n orders as it is read, without
// holding it: the test's input costs no memory either.
type orderStream struct {
	head, tail []byte
	item       []byte
	n          int
	pos        int // within the current piece
	stage      int // 0 head, 1 items, 2 tail
}

func newOrderStream(n int) *orderStream {
	full := envelope(&poHeaders)
	cut := bytes.Index(full, []byte("</s:Body>"))
	return &orderStream{head: full[:cut], tail: full[cut:], item: appendOrder(nil, order{5, "Pencils, box of 12"}), n: n}
}

func (s *orderStream) Read(p []byte) (int, error) {
	for {
		var cur []byte
		switch s.stage {
		case 0:
			cur = s.head
		case 1:
			if s.n == 0 {
				s.stage, s.pos = 2, 0
				continue
			}
			cur = s.item
		case 2:
			cur = s.tail
		default:
			return 0, io.EOF
		}
		n := copy(p, cur[s.pos:])
		s.pos += n
		if s.pos == len(cur) {
			s.pos = 0
			if s.stage == 1 {
				s.n--
			} else {
				s.stage++
			}
		}
		return n, nil
	}
}

// countOrders reads a stream of n orders and returns the heap allocations
// the reading took.
func countOrders(t *testing.T, n int) uint64 {
	r := NewReader(NewTextReader(nil, Limits{}))
	heap := NewHeap(DefaultHeapSize)
	src := newOrderStream(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r.Reset(src)
	if _, err := r.ReadStart(); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for {
		_, ok, err := r.NextChild()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		o, err := readOrder(r, heap)
		if err != nil || o.Quantity != 5 || o.Product != "Pencils, box of 12" {
			t.Fatalf("order %d: %v %v", seen, o, err)
		}
		heap.Reset()
		seen++
	}
	if err := r.ReadEnd(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if seen != n {
		t.Fatalf("read %d orders of %d", seen, n)
	}
	return after.Mallocs - before.Mallocs
}

func TestBodyOfManyElementsInConstantMemory(t *testing.T) {
	small := countOrders(t, 1000)
	large := countOrders(t, 300_000)
	// Headers cost a few allocations per message; elements cost none.
	if large > small+16 {
		t.Fatalf("allocations grow with the element count: %d for 1,000 elements, %d for 300,000", small, large)
	}
	t.Logf("allocations: %d for 1,000 elements, %d for 300,000", small, large)
}

func BenchmarkReadOrders(b *testing.B) {
	r := NewReader(NewTextReader(nil, Limits{FillSize: 4096}))
	heap := NewHeap(DefaultHeapSize)
	const per = 1000
	b.SetBytes(int64(len(appendOrder(nil, order{5, "Pencils, box of 12"})) * per))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Reset(newOrderStream(per))
		if _, err := r.ReadStart(); err != nil {
			b.Fatal(err)
		}
		for {
			_, ok, err := r.NextChild()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			if _, err := readOrder(r, heap); err != nil {
				b.Fatal(err)
			}
			heap.Reset()
		}
		if err := r.ReadEnd(); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(wcfMessage), uint8(0))
	f.Add(envelope(&poHeaders, order{1, "a"}), uint8(3))
	b := AppendEnvelopeStart(nil, &Headers{Action: FaultAction})
	f.Add(AppendEnvelopeEnd(AppendFault(b, ActionNotSupported("urn:x"))), uint8(1))
	f.Add([]byte(`<a xmlns:p="u"><p:b c="&lt;" p:d='x'/>t&#x263A;<![CDATA[]]><!-- c --></a>`), uint8(7))
	f.Fuzz(func(t *testing.T, doc []byte, fill uint8) {
		lim := Limits{FillSize: int(fill%16) + 1, MaxToken: 256}
		// Read everything there is; only the outcome matters: no panic,
		// and the same outcome whatever the fill size.
		walk := func(lim Limits) (string, error) {
			x := NewTextReader(bytes.NewReader(doc), lim)
			var sum strings.Builder
			for i := 0; i < 10000; i++ {
				tok, err := x.Next()
				if err != nil {
					if err == io.EOF {
						return sum.String(), nil
					}
					return sum.String(), err
				}
				fmt.Fprintf(&sum, "%d{%s}%s%q;", tok.Kind, tok.Name.Space, tok.Name.Local, tok.Text)
				for _, a := range tok.Attrs {
					fmt.Fprintf(&sum, "@{%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
				}
			}
			return sum.String(), nil
		}
		s1, err1 := walk(lim)
		s2, err2 := walk(Limits{FillSize: 4096, MaxToken: 256})
		if (err1 == nil) != (err2 == nil) || (err1 == nil && s1 != s2) {
			t.Fatalf("fill %d: %q %v\nfill 4096: %q %v", lim.FillSize, s1, err1, s2, err2)
		}
		// And the envelope reader on top never panics.
		readAll(bytes.NewReader(doc), lim)
	})
}
