package nettcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/protocols/soap"
	"github.com/overlap-go/overlap/server"
)

const (
	nsPO          = "http://example.org"
	actionPO      = "http://example.org/purchaseorder"
	actionConfirm = "http://example.org/orderconfirmation"
	actionStatus  = "http://example.org/getorderstatus"
	actionNF      = "http://example.org/ordernotfound"
)

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: servers registered later stop first.
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return eng
}

func appendOrder(b []byte, qty int, name string) []byte {
	b = append(b, `<PurchaseOrderType xmlns="http://example.org"><quantity>`...)
	b = soap.AppendInt(b, int64(qty))
	b = append(b, `</quantity><productName>`...)
	b = soap.AppendText(b, name)
	return append(b, `</productName></PurchaseOrderType>`...)
}

func orders(n int) func([]byte) []byte {
	return func(b []byte) []byte {
		for i := 0; i < n; i++ {
			b = appendOrder(b, i, fmt.Sprintf("item %d", i))
		}
		return b
	}
}

// readOrders pulls PurchaseOrderType elements and prints them as the seed
// does: "quantity, productName".
func readOrders(m *Message, w io.Writer) (int, error) {
	heap := soap.NewHeap(soap.DefaultHeapSize)
	n := 0
	for {
		t, ok, err := m.Body.NextChild()
		if err != nil || !ok {
			return n, err
		}
		if !t.Name.Is(nsPO, "PurchaseOrderType") {
			if err := m.Body.Skip(); err != nil {
				return n, err
			}
			continue
		}
		var qty int64
		var name string
		for {
			t, ok, err := m.Body.NextChild()
			if err != nil {
				return n, err
			}
			if !ok {
				break
			}
			switch string(t.Name.Local) {
			case "quantity":
				qty, err = m.Body.ReadInt(32)
			case "productName":
				name, err = m.Body.ReadString(heap)
			default:
				err = m.Body.Skip()
			}
			if err != nil {
				return n, err
			}
		}
		fmt.Fprintf(w, "%d, %s\n", qty, name)
		heap.Reset()
		n++
	}
}

// TestSeedShapedServer is the seed's AsyncStreamingTcpServer: listen,
// accept a channel, read messages (headers, action check, body elements
// one by one, message end) until the channel ends.
func TestSeedShapedServer(t *testing.T) {
	eng := newEngine(t)
	l, err := Listen(eng, "net.tcp://127.0.0.1:0/example", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	var out bytes.Buffer
	served := make(chan error, 1)
	go func() {
		ch, err := l.Accept(context.Background())
		if err != nil {
			served <- err
			return
		}
		defer ch.Close()
		for {
			m, err := ch.ReadMessageStart()
			if err == io.EOF {
				served <- nil
				return
			}
			if err != nil {
				served <- err
				return
			}
			if m.Headers.Action != actionPO {
				served <- fmt.Errorf("action %q", m.Headers.Action)
				return
			}
			if _, err := readOrders(m, &out); err != nil {
				served <- err
				return
			}
			if err := ch.ReadMessageEnd(m); err != nil {
				served <- err
				return
			}
		}
	}()
	url := fmt.Sprintf("net.tcp://%s/example", l.Addr())
	ch, err := Dial(context.Background(), eng, url, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := ch.Send(&soap.Headers{Action: actionPO}, orders(100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 300 || lines[0] != "0, item 0" || lines[299] != "99, item 99" {
		t.Fatalf("%d lines: %q ... %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// startService runs a Service with the orders operations on a server.
func startService(t testing.TB, eng *engine.Engine, h *Handler) (string, *server.Server) {
	t.Helper()
	srv := server.New(eng, server.Config{Name: "orders", Addr: "127.0.0.1:0", Socket: h.SocketOptions()}, h)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return fmt.Sprintf("net.tcp://%s%s", srv.Addr(), h.Path), srv
}

type recorder struct {
	mu    sync.Mutex
	lines []string
}

func ordersService(rec *recorder) *Service {
	svc := NewService()
	svc.Handle(actionPO, func(ctx context.Context, m *Message) (*Reply, error) {
		var buf bytes.Buffer
		n, err := readOrders(m, &buf)
		if err != nil {
			return nil, err
		}
		rec.mu.Lock()
		rec.lines = append(rec.lines, strings.Split(strings.TrimSpace(buf.String()), "\n")...)
		rec.mu.Unlock()
		return &Reply{Action: actionConfirm, Body: func(b []byte) []byte {
			b = append(b, `<OrderConfirmationType xmlns="http://example.org"><orderID>`...)
			b = soap.AppendInt(b, int64(n))
			return append(b, `</orderID><expectedShipDate>2026-11-30</expectedShipDate></OrderConfirmationType>`...)
		}}, nil
	})
	svc.Handle(actionStatus, func(ctx context.Context, m *Message) (*Reply, error) {
		if err := m.ch.ReadMessageEnd(m); err != nil {
			return nil, err
		}
		return nil, &soap.Fault{Code: soap.CodeSender, Reason: "no such order", Action: actionNF,
			Detail: []byte(`<OrderNotFoundFaultType xmlns="http://example.org"><orderID>7</orderID></OrderNotFoundFaultType>`)}
	})
	return svc
}

func TestServiceRequestReplyFaults(t *testing.T) { testRequestReplyFaults(t, Config{}) }

// The same session in known encoding 8: binary XML, in-band dictionary.
func TestServiceRequestReplyFaultsBinary(t *testing.T) {
	testRequestReplyFaults(t, Config{Binary: true})
}

func testRequestReplyFaults(t *testing.T, cfg Config) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	ch, err := Dial(context.Background(), eng, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()

	// One-way: no reply comes, the orders are read.
	if err := ch.Send(&soap.Headers{Action: actionPO}, orders(5)); err != nil {
		t.Fatal(err)
	}
	// Request/reply.
	m, err := ch.Request(&soap.Headers{Action: actionPO}, orders(1))
	if err != nil {
		t.Fatal(err)
	}
	if m.Headers.Action != actionConfirm {
		t.Fatalf("reply action %q", m.Headers.Action)
	}
	tok, ok, err := m.Body.NextChild()
	if err != nil || !ok || !tok.Name.Is(nsPO, "OrderConfirmationType") {
		t.Fatalf("reply body: %v %v", ok, err)
	}
	if err := ch.ReadMessageEnd(m); err != nil {
		t.Fatal(err)
	}
	// A declared fault, and the session goes on.
	m, err = ch.Request(&soap.Headers{Action: actionStatus}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := readFault(t, m)
	if m.Headers.Action != actionNF || f.Reason != "no such order" {
		t.Fatalf("fault %+v, action %q", f, m.Headers.Action)
	}
	// An unknown action: ActionNotSupported, and the session goes on.
	m, err = ch.Request(&soap.Headers{Action: "urn:unknown"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := readFault(t, m); f.Subcode != soap.SubcodeActionNotSupported || m.Headers.Action != soap.FaultAction {
		t.Fatalf("fault %+v", f)
	}
	if _, err := ch.Request(&soap.Headers{Action: actionPO}, orders(1)); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) != 7 || rec.lines[4] != "4, item 4" {
		t.Fatalf("recorded %q", rec.lines)
	}
}

func readFault(t *testing.T, m *Message) *soap.Fault {
	t.Helper()
	tok, ok, err := m.Body.NextChild()
	if err != nil || !ok || !tok.Name.Is(soap.NSEnvelope, "Fault") {
		t.Fatalf("not a fault: %v %v", ok, err)
	}
	f, err := m.Body.ReadFault(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ch.ReadMessageEnd(m); err != nil {
		t.Fatal(err)
	}
	return f
}

// rawSession opens a plain TCP connection to the service and sends wire.
func rawSession(t *testing.T, url string, wire []byte) []byte {
	t.Helper()
	addr, _, _ := ParseURL(url)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("% x: reading the reply: %v", wire[:min(len(wire), 8)], err)
	}
	return got
}

func TestBadInputGetsFaultAndClose(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, srv := startService(t, eng, &Handler{Path: "/example", IdleTimeout: 300 * time.Millisecond,
		Config: Config{MaxMessageSize: 1 << 20}, Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	via := url
	pre := nmf.AppendPreamble(nil, nmf.ModeDuplex, via, nmf.EncodingSoap12UTF8)
	msg := func(body string) []byte {
		b := soap.AppendEnvelopeStart(nil, &soap.Headers{Action: actionPO, MessageID: "urn:uuid:1"})
		b = append(b, body...)
		return nmf.AppendSizedEnvelope(nil, soap.AppendEnvelopeEnd(b))
	}
	framing := []struct {
		name  string
		wire  []byte
		fault string
	}{
		{"wrong version", []byte{0x00, 0x02, 0x00}, nmf.FaultUnsupportedVersion},
		{"simplex mode", nmf.AppendMode(nmf.AppendVersion(nil), nmf.ModeSimplex), nmf.FaultUnsupportedMode},
		{"wrong via", nmf.AppendPreamble(nil, nmf.ModeDuplex, strings.Replace(via, "/example", "/other", 1), nmf.EncodingSoap12UTF8), nmf.FaultEndpointNotFound},
		{"MTOM encoding", nmf.AppendPreamble(nil, nmf.ModeDuplex, via, nmf.EncodingSoap12MTOM), nmf.FaultContentTypeInvalid},
		{"security upgrade", nmf.AppendUpgradeRequest(nmf.AppendKnownEncoding(nmf.AppendVia(nmf.AppendMode(nmf.AppendVersion(nil), nmf.ModeDuplex), via), 3), "application/negotiate"), nmf.FaultUpgradeInvalid},
		{"record over the size limit", append(append([]byte{}, pre...), nmf.AppendSizedEnvelopeHeader(nil, 2<<20)...), nmf.FaultMaxMessageSizeExceeded},
		{"unknown record", append(append([]byte{}, pre...), 0x33), nmf.FaultInvalidRecordSequence},
	}
	for _, c := range framing {
		got := rawSession(t, url, c.wire)
		want := nmf.AppendFault(nil, c.fault)
		if !bytes.HasSuffix(got, want) {
			t.Errorf("%s: server sent % x, want it to end with the fault %s", c.name, got, c.fault)
		}
	}
	soapCases := []struct {
		name, body, want string
	}{
		{"malformed XML", `<PurchaseOrderType xmlns="http://example.org"><quantity>1</productName>`, "well-formed"},
		{"element over the cap", `<PurchaseOrderType xmlns="http://example.org"><productName>` + strings.Repeat("x", 3000) + `</productName></PurchaseOrderType>`, "QuotaExceeded"},
	}
	for _, c := range soapCases {
		got := rawSession(t, url, append(append([]byte{}, pre...), msg(c.body)...))
		if !bytes.HasPrefix(got, []byte{0x0B, 0x06}) || !bytes.Contains(got, []byte(c.want)) || !bytes.Contains(got, []byte("<a:RelatesTo>urn:uuid:1</a:RelatesTo>")) || !bytes.HasSuffix(got, []byte{0x07}) {
			t.Errorf("%s: server sent %q", c.name, got)
		}
	}
	// A truncated preamble, then the client stalls: closed, nothing said.
	if got := rawSession(t, url, pre[:7]); len(got) != 0 {
		t.Errorf("truncated preamble: server sent % x", got)
	}
	// Truncated envelope, then the client stalls: the idle timeout closes it.
	full := msg(`<PurchaseOrderType xmlns="http://example.org"><quantity>1</quantity></PurchaseOrderType>`)
	start := time.Now()
	got := rawSession(t, url, append(append([]byte{}, pre...), full[:len(full)/2]...))
	if !bytes.Equal(got, []byte{0x0B}) || time.Since(start) > 5*time.Second {
		t.Errorf("stalled client: got % x after %v", got, time.Since(start))
	}
	// Everyone else is still served.
	ch, err := Dial(context.Background(), eng, url, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Request(&soap.Headers{Action: actionPO}, orders(2)); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	_ = srv
}

func TestDialRefused(t *testing.T) {
	eng := newEngine(t)
	url, _ := startService(t, eng, &Handler{Path: "/example", Serve: func(ch *Channel) {}})
	_, err := Dial(context.Background(), eng, strings.Replace(url, "/example", "/nope", 1), Config{})
	var fe *nmf.FaultError
	if !errors.As(err, &fe) || fe.URI != nmf.FaultEndpointNotFound {
		t.Fatalf("dial to a wrong path: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, addr, path string }{
		{"net.tcp://localhost/example", "localhost:808", "/example"},
		{"net.tcp://0.0.0.0:8808/example", "0.0.0.0:8808", "/example"},
		{"net.tcp://[::1]:9/a/b", "[::1]:9", "/a/b"},
		{"net.tcp://h:1", "h:1", "/"},
	} {
		addr, path, err := ParseURL(c.in)
		if err != nil || addr != c.addr || path != c.path {
			t.Errorf("ParseURL(%q) = %q %q %v", c.in, addr, path, err)
		}
	}
	if _, _, err := ParseURL("http://h/x"); err == nil {
		t.Error("http URL accepted")
	}
}

// TestSingletonUnsized: WCF's streamed transfer mode. One message comes as
// chunks of an unsized envelope, then End; the reply goes back the same way.
func TestSingletonUnsized(t *testing.T) {
	eng := newEngine(t)
	rec := &recorder{}
	svc := ordersService(rec)
	url, _ := startService(t, eng, &Handler{Path: "/example", Config: Config{Singleton: true},
		Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	env := soap.AppendEnvelopeStart(nil, &soap.Headers{Action: actionPO, MessageID: "urn:uuid:2", ReplyTo: soap.Anonymous})
	env = soap.AppendEnvelopeEnd(orders(3)(env))
	wire := nmf.AppendPreamble(nil, nmf.ModeSingletonUnsized, url, nmf.EncodingSoap12UTF8)
	wire = nmf.AppendUnsizedEnvelopeStart(wire)
	for p := env; len(p) > 0; p = p[min(len(p), 100):] {
		wire = nmf.AppendChunk(wire, p[:min(len(p), 100)])
	}
	wire = nmf.AppendEnd(nmf.AppendUnsizedEnvelopeEnd(wire))
	got := rawSession(t, url, wire)
	var d nmf.Decoder
	var kinds []nmf.Kind
	var body []byte
	for p := got; ; {
		r, n, err := d.Next(p)
		p = p[n:]
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == nmf.KindNone {
			break
		}
		if r.Kind == nmf.KindEnvelopeData {
			body = append(body, r.Data...)
			continue
		}
		kinds = append(kinds, r.Kind)
	}
	want := []nmf.Kind{nmf.KindPreambleAck, nmf.KindEnvelopeStart, nmf.KindEnvelopeEnd, nmf.KindEnd}
	if fmt.Sprint(kinds) != fmt.Sprint(want) || !bytes.Contains(body, []byte("<orderID>3</orderID>")) || !bytes.Contains(body, []byte("urn:uuid:2")) {
		t.Fatalf("server sent %v, body %q", kinds, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) != 3 {
		t.Fatalf("recorded %q", rec.lines)
	}
}
