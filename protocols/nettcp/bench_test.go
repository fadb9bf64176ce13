package nettcp

import (
	"context"
	"testing"

	"github.com/overlap-go/overlap/protocols/soap"
)

// BenchmarkOneWay sends one-way messages of 100 PurchaseOrderType elements
// over one session to a service that reads every element.
func BenchmarkOneWay(b *testing.B) { benchOneWay(b, Config{ReadSize: 4096}) }

// BenchmarkOneWayBinary is BenchmarkOneWay in known encoding 8.
func BenchmarkOneWayBinary(b *testing.B) { benchOneWay(b, Config{ReadSize: 4096, Binary: true}) }

func benchOneWay(b *testing.B, cfg Config) {
	eng := newEngine(b)
	svc := NewService()
	svc.Handle(actionPO, func(ctx context.Context, m *Message) (*Reply, error) {
		_, err := readOrders(m, discard{})
		return nil, err
	})
	url, _ := startService(b, eng, &Handler{Path: "/example", Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})
	ch, err := Dial(context.Background(), eng, url, cfg)
	if err != nil {
		b.Fatal(err)
	}
	body := orders(100)(nil)
	appendBody := func(p []byte) []byte { return append(p, body...) }
	h := &soap.Headers{Action: actionPO}
	// The envelope's bytes on the wire (framing aside), as Send writes it.
	wire := soap.AppendEnvelopeEnd(appendBody(soap.AppendEnvelopeStart(nil, &soap.Headers{Action: actionPO, To: ch.Via})))
	if cfg.Binary {
		if wire, err = newBinary(soap.Limits{}, true).appendBinary(nil, wire); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ch.Send(h, appendBody); err != nil {
			b.Fatal(err)
		}
	}
	if err := ch.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(wire)), "wire-B/msg") // after the loop: ResetTimer drops metrics
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
