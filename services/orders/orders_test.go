package orders

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/nettcp"
	"github.com/overlap-go/overlap/server"
)

func start(t *testing.T, svc *Service) (*engine.Engine, string) {
	t.Helper()
	eng, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	h := Handler(svc, DefaultPath, nettcp.Config{}, time.Minute, nil)
	srv := server.New(eng, server.Config{Name: "orders", Addr: "127.0.0.1:0", Socket: h.SocketOptions()}, h)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return eng, fmt.Sprintf("net.tcp://%s%s", srv.Addr(), DefaultPath)
}

func TestOrdersService(t *testing.T) {
	var out bytes.Buffer
	store := &MemStore{}
	svc := &Service{Store: store, Out: &out, Now: func() time.Time { return time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC) }}
	eng, url := start(t, svc)
	ch, err := nettcp.Dial(context.Background(), eng, url, nettcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	c := IPurchaseOrderClient{Ch: ch}

	// Streamed one-way messages, as the seed receives them.
	batch := make([]PurchaseOrderType, 50)
	for i := range batch {
		batch[i] = PurchaseOrderType{Quantity: int32(i + 1), ProductName: fmt.Sprintf("Pencil #%d", i)}
	}
	for i := 0; i < 4; i++ {
		if err := c.SendOrder(batch); err != nil {
			t.Fatal(err)
		}
	}
	// Request/reply: messages of a session are served in order, so the
	// streamed ones are all stored once this returns.
	conf, err := c.Order(&PurchaseOrderType{Quantity: 3, ProductName: "Desk"})
	if err != nil {
		t.Fatal(err)
	}
	if conf.OrderID != 201 || conf.ExpectedShipDate != "2026-11-26" {
		t.Fatalf("confirmation %+v", conf)
	}
	st, err := c.OrderStatus(&GetOrderStatusType{OrderID: conf.OrderID})
	if err != nil || st.Status != StatusAccepted || st.OrderID != 201 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if st, err := c.OrderStatus(&GetOrderStatusType{OrderID: 7}); err != nil || st.Status != StatusReceived {
		t.Fatalf("streamed order status %+v, %v", st, err)
	}
	_, err = c.OrderStatus(&GetOrderStatusType{OrderID: 9999})
	var nf *OrderNotFoundFault
	if !errors.As(err, &nf) || nf.Detail.OrderID != 9999 || !strings.Contains(nf.Reason, "9999") {
		t.Fatalf("unknown order: %v", err)
	}
	// The session survives the declared fault.
	if _, err := c.Order(&PurchaseOrderType{Quantity: 1, ProductName: "Lamp"}); err != nil {
		t.Fatal(err)
	}
	svc.flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 200 || lines[0] != "1, Pencil #0" || lines[199] != "50, Pencil #49" {
		t.Fatalf("%d printed lines: %q", len(lines), lines[:min(3, len(lines))])
	}
	if o, err := store.Get(context.Background(), 50); err != nil || o.ProductName != "Pencil #49" {
		t.Fatalf("stored %+v %v", o, err)
	}
}

func TestMemStoreKeepsTheNewest(t *testing.T) {
	m := &MemStore{Limit: 3}
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if id, _ := m.Add(ctx, Order{Quantity: int32(i)}); id != uint32(i) {
			t.Fatalf("id %d for order %d", id, i)
		}
	}
	for id := uint32(1); id <= 5; id++ {
		o, err := m.Get(ctx, id)
		if id <= 2 && !errors.Is(err, ErrNotFound) || id > 2 && (err != nil || o.Quantity != int32(id)) {
			t.Fatalf("order %d: %+v %v", id, o, err)
		}
	}
}
