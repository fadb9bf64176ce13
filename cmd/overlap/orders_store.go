// The orders service's storage: orders go into the same store as the
// recorder's records (SQLite by default, PostgreSQL), through a batching
// order log.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/services/orders"
	"github.com/overlap-go/overlap/store"
)

// withStore makes s open the store when it starts and give it to svc; the
// admin page reads the orders from it. Without a store URL, svc keeps
// orders in memory.
func (f *ordersFlags) withStore(s service, svc *orders.Service) service {
	if f.store == nil {
		return s
	}
	var st store.Store
	var log *store.OrderLog
	h, sock := s.h, s.sock
	s.h = nil
	s.make = func(eng *engine.Engine, ef *engineFlags, l *slog.Logger) (runnable, error) {
		octx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if st, err = store.Open(octx, *f.store); err != nil {
			return nil, err
		}
		ost, ok := st.(store.Orders)
		if !ok {
			return nil, fmt.Errorf("orders: %s cannot keep orders", st)
		}
		log = store.NewOrderLog(ost, store.BatchConfig{Logger: l})
		svc.Store = orderStore{log}
		return server.New(eng, server.Config{Name: s.name, Addr: s.addr, MaxConns: ef.maxConns, Logger: l, Socket: sock}, h), nil
	}
	s.close = func(ctx context.Context) error {
		if log == nil {
			return nil
		}
		return joinClose(log.Close(ctx), st)
	}
	s.orders = func() *store.OrderLog { return log }
	return s
}

// orderStore adapts the order log to the service's Store.
type orderStore struct{ log *store.OrderLog }

func (s orderStore) Add(ctx context.Context, o orders.Order) (uint32, error) {
	// PostgreSQL text cannot hold a NUL, which XML text can carry: keep the
	// order, with U+FFFD in its place.
	name := strings.ReplaceAll(o.ProductName, "\x00", "\uFFFD")
	id, err := s.log.Add(ctx, &store.Order{Quantity: o.Quantity, ProductName: name, Status: o.Status})
	if err == nil && id > math.MaxUint32 {
		err = fmt.Errorf("orders: order id %d passes the protocol's 32 bits", id)
	}
	return uint32(id), err
}

func (s orderStore) Get(ctx context.Context, id uint32) (orders.Order, error) {
	o, err := s.log.Get(ctx, int64(id))
	if errors.Is(err, store.ErrNotFound) {
		return orders.Order{}, orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, err
	}
	return orders.Order{Quantity: o.Quantity, ProductName: o.ProductName, Status: o.Status}, nil
}
