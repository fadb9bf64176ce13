// Purchase orders of the net.tcp service, in the same database as the
// records. Streamed one-way orders can arrive by the million, so orders go
// in through a Batcher like records; their ids are handed out in blocks
// reserved in the database, so an id is known at once (an Order call
// returns it) and two overlap instances on one database never collide.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Order is one stored purchase order.
type Order struct {
	ID          int64     `json:"id"`
	ReceivedAt  time.Time `json:"received_at"`
	Quantity    int32     `json:"quantity"`
	ProductName string    `json:"product_name"`
	Status      string    `json:"status"`
}

// Orders is the order table of a store. SQLite and Postgres implement it.
type Orders interface {
	// ReserveOrderIDs reserves n consecutive ids and returns the first.
	ReserveOrderIDs(ctx context.Context, n int) (int64, error)
	// AppendOrders stores orders, ids set, in one transaction.
	AppendOrders(ctx context.Context, orders []*Order) error
	// GetOrder returns one order, or ErrNotFound.
	GetOrder(ctx context.Context, id int64) (*Order, error)
	// ListOrders returns the newest orders, newest first.
	ListOrders(ctx context.Context, limit int) ([]Order, error)
	String() string
}

// orderIDBlock is how many ids one reservation takes.
const orderIDBlock = 1024

// OrderLog stores orders through a batcher, assigning ids from reserved
// blocks. It is safe for concurrent use.
type OrderLog struct {
	st Orders
	b  *Batcher[*Order]

	mu        sync.Mutex
	next, end int64 // the reserved block not yet handed out
}

// NewOrderLog starts an order log on st.
func NewOrderLog(st Orders, cfg BatchConfig) *OrderLog {
	return &OrderLog{st: st, b: newBatcher(st.String(), st.AppendOrders, func(*Order) int { return 0 }, cfg)}
}

// Add assigns o an id and queues it for commit. When the queue is full it
// waits for room, for as long as ctx allows: the caller, a session's
// goroutine, stops reading its client meanwhile. Once Add returns an id the
// order is queued and will be stored, even if ctx ended while waiting.
func (l *OrderLog) Add(ctx context.Context, o *Order) (int64, error) {
	l.mu.Lock()
	if l.next == l.end {
		first, err := l.st.ReserveOrderIDs(ctx, orderIDBlock)
		if err != nil {
			l.mu.Unlock()
			return 0, err
		}
		l.next, l.end = first, first+orderIDBlock
	}
	o.ID = l.next
	l.next++
	l.mu.Unlock()
	if o.ReceivedAt.IsZero() {
		o.ReceivedAt = time.Now().UTC()
	}
	room, err := l.b.Add(o)
	if err != nil {
		return 0, err
	}
	if !room {
		ready := make(chan struct{})
		l.b.WhenRoom(func() { close(ready) })
		select {
		case <-ready:
		case <-ctx.Done():
		}
	}
	return o.ID, nil
}

// Get returns an order, committing what is queued first so that an order
// just added is found.
func (l *OrderLog) Get(ctx context.Context, id int64) (*Order, error) {
	if err := l.b.Flush(ctx); err != nil {
		return nil, err
	}
	return l.st.GetOrder(ctx, id)
}

// List returns the newest committed orders.
func (l *OrderLog) List(ctx context.Context, limit int) ([]Order, error) {
	return l.st.ListOrders(ctx, limit)
}

// Flush waits until every order added so far is committed.
func (l *OrderLog) Flush(ctx context.Context) error { return l.b.Flush(ctx) }

// Close commits what is queued and stops.
func (l *OrderLog) Close(ctx context.Context) error { return l.b.Close(ctx) }

// Stats returns the batcher's counters.
func (l *OrderLog) Stats() Stats { return l.b.Stats() }

// --- SQLite ---

// ReserveOrderIDs reserves n ids.
func (s *SQLite) ReserveOrderIDs(ctx context.Context, n int) (int64, error) {
	var next int64
	err := s.w.QueryRowContext(ctx, "UPDATE order_ids SET next = next + ? RETURNING next", n).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("store: sqlite: reserve order ids: %w", err)
	}
	return next - int64(n), nil
}

// AppendOrders stores orders in one transaction.
func (s *SQLite) AppendOrders(ctx context.Context, orders []*Order) error {
	return s.insertRows(ctx, "INSERT INTO orders (id, received_at, quantity, product_name, status) VALUES ", 5, len(orders),
		func(i int, args []any) []any {
			o := orders[i]
			return append(args, o.ID, o.ReceivedAt.UTC().UnixMicro(), o.Quantity, o.ProductName, o.Status)
		})
}

func scanOrderSQLite(sc interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var at int64
	err := sc.Scan(&o.ID, &at, &o.Quantity, &o.ProductName, &o.Status)
	o.ReceivedAt = time.UnixMicro(at).UTC()
	return o, err
}

// GetOrder returns one order.
func (s *SQLite) GetOrder(ctx context.Context, id int64) (*Order, error) {
	o, err := scanOrderSQLite(s.r.QueryRowContext(ctx, "SELECT id, received_at, quantity, product_name, status FROM orders WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: order: %w", err)
	}
	return &o, nil
}

// ListOrders returns the newest orders.
func (s *SQLite) ListOrders(ctx context.Context, limit int) ([]Order, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, received_at, quantity, product_name, status FROM orders ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrderSQLite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sqlite: orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// --- PostgreSQL ---

// ReserveOrderIDs reserves n ids.
func (s *Postgres) ReserveOrderIDs(ctx context.Context, n int) (int64, error) {
	var next int64
	if err := s.pool.QueryRow(ctx, "UPDATE order_ids SET next = next + $1 RETURNING next", n).Scan(&next); err != nil {
		return 0, fmt.Errorf("store: postgres: reserve order ids: %w", err)
	}
	return next - int64(n), nil
}

var orderColumns = []string{"id", "received_at", "quantity", "product_name", "status"}

// AppendOrders stores orders with one COPY.
func (s *Postgres) AppendOrders(ctx context.Context, orders []*Order) error {
	rows := make([][]any, len(orders))
	for i, o := range orders {
		rows[i] = []any{o.ID, micros(o.ReceivedAt), o.Quantity, o.ProductName, o.Status}
	}
	if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"orders"}, orderColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store: postgres: copy orders: %w", err)
	}
	return nil
}

// GetOrder returns one order.
func (s *Postgres) GetOrder(ctx context.Context, id int64) (*Order, error) {
	var o Order
	err := s.pool.QueryRow(ctx, "SELECT id, received_at, quantity, product_name, status FROM orders WHERE id = $1", id).
		Scan(&o.ID, &o.ReceivedAt, &o.Quantity, &o.ProductName, &o.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: order %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: postgres: order: %w", err)
	}
	o.ReceivedAt = o.ReceivedAt.UTC()
	return &o, nil
}

// ListOrders returns the newest orders.
func (s *Postgres) ListOrders(ctx context.Context, limit int) ([]Order, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, received_at, quantity, product_name, status FROM orders ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		var o Order
		if err := rows.Scan(&o.ID, &o.ReceivedAt, &o.Quantity, &o.ProductName, &o.Status); err != nil {
			return nil, fmt.Errorf("store: postgres: orders: %w", err)
		}
		o.ReceivedAt = o.ReceivedAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}
