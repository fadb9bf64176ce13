package nettcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/overlap-go/overlap/protocols/nbfx"
	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/protocols/soap"
)

// binaryOrder appends, as a WCF client would, an envelope in encoding 8:
// the string table of the strings not yet in out, then the records, which
// refer to them by their session ids. With out nil, encoding 7: the
// records only, referring to the static dictionary.
func binaryOrder(t *testing.T, out *nbfx.Session, msgID string, qty int64) []byte {
	t.Helper()
	w := nbfx.Writer{Dict: nbfx.StaticDictionary{}}
	if out != nil {
		var fresh []string
		for _, s := range []string{actionPO, nsPO, "PurchaseOrderType", "quantity", "productName", msgID} {
			if _, ok := out.ID(s); !ok {
				fresh = append(fresh, s)
			}
		}
		b, err := out.AppendTable(nil, fresh...)
		if err != nil {
			t.Fatal(err)
		}
		w = nbfx.Writer{Buf: b, Dict: out}
	}
	w.StartElement("s", "Envelope")
	w.Xmlns("s", soap.NSEnvelope)
	w.Xmlns("a", soap.NSAddressing)
	w.StartElement("s", "Header")
	w.StartElement("a", "Action")
	w.AttrInt("s", "mustUnderstand", 1)
	w.Text(actionPO)
	w.EndElement()
	w.StartElement("a", "MessageID")
	w.Text(msgID)
	w.EndElement()
	w.StartElement("a", "ReplyTo")
	w.StartElement("a", "Address")
	w.Text("http://www.w3.org/2005/08/addressing/anonymous")
	w.EndElement()
	w.EndElement()
	w.EndElement()
	w.StartElement("s", "Body")
	w.StartElement("", "PurchaseOrderType")
	w.Xmlns("", nsPO)
	w.StartElement("", "quantity")
	w.TextInt(qty)
	w.EndElement()
	w.StartElement("", "productName")
	w.Text("widget")
	w.EndElement()
	w.EndElement()
	w.EndElement()
	w.EndElement()
	return w.Buf
}

// envelopes splits a server's reply stream into its envelopes' payloads.
func envelopes(t *testing.T, wire []byte) (payloads [][]byte, ended bool) {
	t.Helper()
	var d nmf.Decoder
	var cur []byte
	for {
		r, n, err := d.Next(wire)
		if err != nil {
			t.Fatalf("reply framing: %v", err)
		}
		if r.Kind == nmf.KindNone {
			return payloads, ended
		}
		wire = wire[n:]
		switch r.Kind {
		case nmf.KindEnvelopeStart:
			cur = nil
		case nmf.KindEnvelopeData:
			cur = append(cur, r.Data...)
		case nmf.KindEnvelopeEnd:
			payloads = append(payloads, cur)
		case nmf.KindEnd:
			ended = true
		case nmf.KindFault:
			t.Fatalf("framing fault %s", r.Text)
		}
	}
}

// A session in known encoding 8 on the wire, as a WCF client sends it:
// each envelope's table adds the strings it refers to; the second refers to
// the first's too. The replies are binary, with empty tables (the server
// refers to the static dictionary only), and answer each request.
func TestBinarySessionOnTheWire(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	out := nbfx.NewSession(nbfx.SessionLimits{})
	wire := nmf.AppendPreamble(nil, nmf.ModeDuplex, url, nmf.EncodingSoap12BinarySess)
	wire = nmf.AppendSizedEnvelope(wire, binaryOrder(t, out, "urn:uuid:1", 3))
	n1 := out.Len()
	wire = nmf.AppendSizedEnvelope(wire, binaryOrder(t, out, "urn:uuid:2", 1000))
	if out.Len() != n1+1 {
		t.Fatalf("the second table adds %d strings, want only its MessageID", out.Len()-n1)
	}
	wire = nmf.AppendEnd(wire)
	got := rawSession(t, url, wire)
	if len(got) == 0 || got[0] != byte(nmf.RecPreambleAck) {
		t.Fatalf("no PreambleAck: % x", got[:min(len(got), 16)])
	}
	payloads, ended := envelopes(t, got[1:])
	if !ended || len(payloads) != 2 {
		t.Fatalf("%d replies, End %v", len(payloads), ended)
	}
	r := soap.NewReader(nbfx.NewReader(nil, nbfx.Config{}))
	for i, p := range payloads {
		if p[0] != 0 {
			t.Fatalf("reply %d: a string table of %d bytes, want none", i, p[0])
		}
		r.Reset(bytes.NewReader(p[1:]))
		h, err := r.ReadStart()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if h.Action != actionConfirm || h.RelatesTo != []string{"urn:uuid:1", "urn:uuid:2"}[i] {
			t.Fatalf("reply %d: headers %+v", i, h)
		}
		tok, ok, err := r.NextChild()
		if err != nil || !ok || !tok.Name.Is(nsPO, "OrderConfirmationType") {
			t.Fatalf("reply %d body: %v %v", i, ok, err)
		}
		if err := r.Skip(); err != nil {
			t.Fatal(err)
		}
		if err := r.ReadEnd(); err != nil {
			t.Fatal(err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) != 2 || rec.lines[0] != "3, widget" || rec.lines[1] != "1000, widget" {
		t.Fatalf("recorded %q", rec.lines)
	}
}

// Known encoding 7, binary without a session: no string tables either way.
func TestBinaryNoSessionOnTheWire(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	wire := nmf.AppendPreamble(nil, nmf.ModeDuplex, url, nmf.EncodingSoap12Binary)
	wire = nmf.AppendSizedEnvelope(wire, binaryOrder(t, nil, "urn:uuid:7", 7))
	wire = nmf.AppendEnd(wire)
	got := rawSession(t, url, wire)
	payloads, ended := envelopes(t, got[1:])
	if !ended || len(payloads) != 1 {
		t.Fatalf("%d replies, End %v", len(payloads), ended)
	}
	r := soap.NewReader(nbfx.NewReader(bytes.NewReader(payloads[0]), nbfx.Config{}))
	h, err := r.ReadStart()
	if err != nil || h.Action != actionConfirm || h.RelatesTo != "urn:uuid:7" {
		t.Fatalf("reply %+v %v", h, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) != 1 || rec.lines[0] != "7, widget" {
		t.Fatalf("recorded %q", rec.lines)
	}
}

// A string table the session cannot apply (a string sent twice) gets a
// Sender fault and ends the session: the dictionaries are out of step.
func TestBinaryBadTableEndsSession(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	out := nbfx.NewSession(nbfx.SessionLimits{})
	env := binaryOrder(t, out, "urn:uuid:1", 3)
	wire := nmf.AppendPreamble(nil, nmf.ModeDuplex, url, nmf.EncodingSoap12BinarySess)
	wire = nmf.AppendSizedEnvelope(wire, env)
	wire = nmf.AppendSizedEnvelope(wire, env) // the same table again
	wire = nmf.AppendEnd(wire)
	got := rawSession(t, url, wire)
	payloads, _ := envelopes(t, got[1:])
	if len(payloads) != 2 {
		t.Fatalf("%d replies: want the first reply, then a fault", len(payloads))
	}
	r := soap.NewReader(nbfx.NewReader(bytes.NewReader(payloads[1][1:]), nbfx.Config{}))
	if _, err := r.ReadStart(); err != nil {
		t.Fatal(err)
	}
	if tok, ok, err := r.NextChild(); err != nil || !ok || !tok.Name.Is(soap.NSEnvelope, "Fault") {
		t.Fatalf("not a fault: %v %v", ok, err)
	}
	if f, err := r.ReadFault(nil); err != nil || f.Code != soap.CodeSender || !strings.Contains(f.Reason, "string table cannot be applied") {
		t.Fatalf("fault %+v %v", f, err)
	}
}

// Transcoding keeps every name and namespace, binds prefixes only where
// needed, and never declares the xml prefix (Mono refuses a fault whose
// xml:lang comes with a declaration of the reserved namespace).
func TestTranscode(t *testing.T) {
	f := &soap.Fault{Code: soap.CodeSender, Reason: "no such order", Action: actionNF,
		Detail: []byte(`<OrderNotFoundFaultType xmlns="http://example.org"><orderID>7</orderID></OrderNotFoundFaultType>`)}
	text := soap.AppendEnvelopeStart(nil, &soap.Headers{Action: actionNF, RelatesTo: "urn:uuid:1"})
	text = soap.AppendFault(text, f)
	text = soap.AppendEnvelopeEnd(text)
	bn := newBinary(soap.Limits{}, true)
	b, err := bn.appendBinary(nil, text)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 || bytes.Contains(b, []byte(nsXML)) {
		t.Fatalf("% x: a string table, or the xml namespace declared", b)
	}
	tok := func(r soap.TokenReader) []string {
		var out []string
		for {
			tk, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				return out
			}
			s := fmt.Sprintf("%d {%s}%s %q", tk.Kind, tk.Name.Space, tk.Name.Local, tk.Text)
			for _, a := range tk.Attrs {
				s += fmt.Sprintf(" {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			out = append(out, s)
		}
	}
	want := tok(soap.NewTextReader(bytes.NewReader(text), soap.Limits{}))
	got := tok(nbfx.NewReader(bytes.NewReader(b[1:]), nbfx.Config{}))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("binary reads\n%s\ntext reads\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(strings.Join(got, "\n"), `{`+nsXML+`}lang=`) {
		t.Fatalf("no xml:lang:\n%s", strings.Join(got, "\n"))
	}
	// The fault code is the QName text "s:Sender": s stays the envelope's
	// prefix.
	if !bytes.Contains(b, []byte("\x56\x02\x0b\x01s")) {
		t.Fatalf("% x: the Envelope is not s:Envelope with xmlns:s", b)
	}
}

// Garbage after a good (empty) string table is a message that cannot be
// read: a Sender fault, in binary, then the session ends.
func TestBinaryGarbageGetsFault(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	for _, garbage := range [][]byte{
		{0xff, 0x01, 0x02},                     // not a record
		{0x56, 0x02, 0x0b, 0x01, 's', 0x7f},    // s:Envelope, then a bad record
		{0x56, 0x02, 0x0b, 0x01, 's', 0x41, 9}, // a string running past the envelope
		{0x56, 0x03},                           // s:<odd id>, never in a table
	} {
		wire := nmf.AppendPreamble(nil, nmf.ModeDuplex, url, nmf.EncodingSoap12BinarySess)
		wire = nmf.AppendSizedEnvelope(wire, append([]byte{0}, garbage...))
		got := rawSession(t, url, nmf.AppendEnd(wire))
		payloads, _ := envelopes(t, got[1:])
		if len(payloads) != 1 || len(payloads[0]) == 0 || payloads[0][0] != 0 {
			t.Fatalf("% x: %d replies, want one fault", garbage, len(payloads))
		}
		r := soap.NewReader(nbfx.NewReader(bytes.NewReader(payloads[0][1:]), nbfx.Config{}))
		if _, err := r.ReadStart(); err != nil {
			t.Fatal(err)
		}
		tok, ok, err := r.NextChild()
		if err != nil || !ok || !tok.Name.Is(soap.NSEnvelope, "Fault") {
			t.Fatalf("% x: not a fault: %v %v", garbage, ok, err)
		}
		f, err := r.ReadFault(nil)
		if err != nil || f.Code != soap.CodeSender {
			t.Fatalf("% x: fault %+v %v", garbage, f, err)
		}
	}
}
