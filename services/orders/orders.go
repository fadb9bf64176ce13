// Package orders is the PurchaseOrder service of the WWSAPI seed
// (AsyncStreamingTcpServerExample) on net.tcp: one-way PurchaseOrder
// messages are read streamed, element by element in a 1024-byte heap,
// printed "quantity, productName" as the seed does and stored; Order answers
// with an OrderConfirmation; OrderStatus answers with the stored status or
// the declared OrderNotFound fault. Its types, service interface and client
// are generated from PurchaseOrder.wsdl (purchaseorder_wsdl.go).
package orders

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overlap-go/overlap/protocols/nettcp"
)

// DefaultAddr and DefaultPath are where `overlap serve` runs the service:
// net.tcp://0.0.0.0:8808/example.
const (
	DefaultAddr = "0.0.0.0:8808"
	DefaultPath = "/example"
)

// Statuses of an order.
const (
	StatusReceived = "received" // a one-way streamed order
	StatusAccepted = "accepted" // an order placed with Order
)

// Order is a stored order.
type Order struct {
	Quantity    int32
	ProductName string
	Status      string
}

// ErrNotFound is returned by a Store for an unknown order id.
var ErrNotFound = errors.New("orders: no such order")

// Store keeps orders. The service only needs these two calls; the
// database-backed stores shared with the recorder implement it too.
type Store interface {
	// Add stores o and returns its new id.
	Add(ctx context.Context, o Order) (uint32, error)
	// Get returns the order with id, or ErrNotFound.
	Get(ctx context.Context, id uint32) (Order, error)
}

// MemStore is an in-memory Store. It keeps the most recent Limit orders
// (older ones are forgotten), so a server fed streams without end keeps
// bounded memory.
type MemStore struct {
	// Limit bounds the orders kept (0 = 1,000,000).
	Limit int

	mu     sync.Mutex
	next   uint32
	orders map[uint32]Order
	fifo   []uint32 // ids, oldest first, as a ring
	head   int
}

// Add stores o and returns its id (ids start at 1).
func (m *MemStore) Add(_ context.Context, o Order) (uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := m.Limit
	if limit <= 0 {
		limit = 1_000_000
	}
	if m.orders == nil {
		m.orders = map[uint32]Order{}
	}
	m.next++
	id := m.next
	if len(m.fifo) < limit {
		m.fifo = append(m.fifo, id)
	} else {
		delete(m.orders, m.fifo[m.head])
		m.fifo[m.head] = id
		m.head = (m.head + 1) % len(m.fifo)
	}
	m.orders[id] = o
	return id, nil
}

// Get returns the order with id.
func (m *MemStore) Get(_ context.Context, id uint32) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	return o, nil
}

// Service implements IPurchaseOrder, with Order's input also taken
// streamed (IPurchaseOrderOrderStreamer).
type Service struct {
	// Store keeps the orders (nil = a new MemStore).
	Store Store
	// Out, when set, receives "quantity, productName" for every streamed
	// order, as the seed prints them. Lines are buffered and flushed at
	// most 50 ms later.
	Out io.Writer
	// ShipAfter is the delay promised in an OrderConfirmation (default 72h).
	ShipAfter time.Duration
	// Now returns the time (nil = time.Now).
	Now func() time.Time

	once  sync.Once
	mu    sync.Mutex
	out   *bufio.Writer
	armed bool
	line  []byte
}

func (s *Service) init() {
	s.once.Do(func() {
		if s.Store == nil {
			s.Store = &MemStore{}
		}
		if s.Out != nil {
			s.out = bufio.NewWriterSize(s.Out, 32<<10)
		}
		if s.ShipAfter == 0 {
			s.ShipAfter = 72 * time.Hour
		}
		if s.Now == nil {
			s.Now = time.Now
		}
	})
}

// OrderStream stores one streamed PurchaseOrderType and prints it.
func (s *Service) OrderStream(ctx context.Context, in *PurchaseOrderType) error {
	s.init()
	s.print(in)
	_, err := s.Store.Add(ctx, Order{Quantity: in.Quantity, ProductName: strings.Clone(in.ProductName), Status: StatusReceived})
	return err
}

// Order stores an order and confirms it with its id and a ship date.
func (s *Service) Order(ctx context.Context, in *PurchaseOrderType) (*OrderConfirmationType, error) {
	s.init()
	id, err := s.Store.Add(ctx, Order{Quantity: in.Quantity, ProductName: strings.Clone(in.ProductName), Status: StatusAccepted})
	if err != nil {
		return nil, err
	}
	return &OrderConfirmationType{OrderID: id, ExpectedShipDate: s.Now().Add(s.ShipAfter).UTC().Format("2006-01-02")}, nil
}

// OrderStatus returns a stored order's status, or the OrderNotFound fault.
func (s *Service) OrderStatus(ctx context.Context, in *GetOrderStatusType) (*GetOrderStatusResponseType, error) {
	s.init()
	o, err := s.Store.Get(ctx, in.OrderID)
	if errors.Is(err, ErrNotFound) {
		return nil, &OrderNotFoundFault{Detail: OrderNotFoundFaultType{OrderID: in.OrderID},
			Reason: "order " + strconv.FormatUint(uint64(in.OrderID), 10) + " not found"}
	}
	if err != nil {
		return nil, err
	}
	return &GetOrderStatusResponseType{OrderID: in.OrderID, Status: o.Status}, nil
}

func (s *Service) print(in *PurchaseOrderType) {
	if s.out == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.line = strconv.AppendInt(s.line[:0], int64(in.Quantity), 10)
	s.line = append(s.line, ", "...)
	s.line = append(s.line, in.ProductName...)
	s.line = append(s.line, '\n')
	s.out.Write(s.line)
	if !s.armed {
		s.armed = true
		time.AfterFunc(50*time.Millisecond, s.flush)
	}
}

func (s *Service) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = false
	s.out.Flush()
}

// Handler returns the net.tcp handler serving svc at path, for an overlap
// server. idle closes sessions silent that long (0 = never).
func Handler(svc *Service, path string, cfg nettcp.Config, idle time.Duration, log *slog.Logger) *nettcp.Handler {
	ns := nettcp.NewService()
	ns.Logger = log
	RegisterIPurchaseOrder(ns, svc, 0)
	return &nettcp.Handler{
		Path: path, Config: cfg, IdleTimeout: idle, Logger: log,
		Serve: func(ch *nettcp.Channel) { ns.Serve(context.Background(), ch) },
	}
}
