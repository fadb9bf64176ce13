package pipes

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// transports are the two serving paths every service test runs on.
var transports = []string{"net", "overlap"}

// testServer starts a pipes server on loopback over transport, with svc
// (nil for the real service), and a client connection to it.
func testServer(t testing.TB, transport string, svc pb.PipesServer, opts ...grpc.ServerOption) (*Server, *grpc.ClientConn) {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", Service: svc, GRPC: opts, Logger: slog.New(slog.DiscardHandler)}
	if transport == "overlap" {
		eng, err := engine.New(engine.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := eng.Close(); err != nil {
				t.Errorf("engine close: %v", err)
			}
		})
		cfg.Engine = eng
	}
	s := NewServer(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	cc, err := Dial(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return s, cc
}

func eachTransport(t *testing.T, f func(t *testing.T, transport string)) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestIntPipeLikeTheSeed runs the seed's call: an [in] pipe pulled to its
// end, echoed, generated [out] chunks, completion with b = 10.
func TestIntPipeLikeTheSeed(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		_, cc := testServer(t, tr, nil)
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{A: 5, Echo: true, OutChunks: 3, OutChunkLen: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range [][]int32{{1, 2, 3}, {4, 5}} {
			if err := call.Push(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := call.Push(nil); err != nil {
			t.Fatal(err)
		}
		if err := call.Push([]int32{6}); !errors.Is(err, pipe.ErrPipeEnded) {
			t.Fatalf("push after the end: %v", err)
		}
		var got [][]int32
		for {
			c, err := call.Pull()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		want := [][]int32{{6, 7, 8}, {9, 10}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("[out] pipe %v, want %v", got, want)
		}
		r, err := call.Result()
		if err != nil {
			t.Fatal(err)
		}
		if r.GetB() != 10 || r.GetInChunks() != 2 || r.GetInValues() != 5 || r.GetInSum() != 15 || r.GetOutChunks() != 5 || r.GetOutValues() != 17 {
			t.Fatalf("reply %v", r)
		}
	})
}

func importOrders(t *testing.T, cc *grpc.ClientConn, batch string, chunks ...[]*pb.PurchaseOrder) ([][]*pb.OrderConfirmation, *pb.ImportSummary, error) {
	t.Helper()
	call, err := StartImport(testCtx(t), cc, &pb.ImportParams{BatchId: batch})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Cancel()
	go func() {
		for _, c := range chunks {
			if call.Push(c) != nil {
				return
			}
		}
		call.Push(nil)
	}()
	var confs [][]*pb.OrderConfirmation
	for {
		c, err := call.Pull()
		if err == io.EOF {
			break
		}
		if err != nil {
			return confs, nil, err
		}
		confs = append(confs, c)
	}
	sum, err := call.Result()
	return confs, sum, err
}

func TestImportConfirmsEveryOrderAndCompletesWithTotals(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		_, cc := testServer(t, tr, nil)
		confs, sum, err := importOrders(t, cc, "B7", SampleOrders(1, 3), SampleOrders(4, 2))
		if err != nil {
			t.Fatal(err)
		}
		if len(confs) != 2 || len(confs[0]) != 3 || len(confs[1]) != 2 {
			t.Fatalf("confirmation chunks %v", confs)
		}
		var total int64
		for i, c := range append(confs[0], confs[1]...) {
			o := SampleOrders(i+1, 1)[0]
			want, _ := orderTotal(o)
			if c.GetOrderId() != o.GetOrderId() || c.GetConfirmationId() != "B7-"+strconv.Itoa(i+1) || c.GetTotalCents() != want || c.GetLines() != 2 {
				t.Errorf("confirmation %d: %v", i, c)
			}
			total += want
		}
		if sum.GetBatchId() != "B7" || sum.GetOrders() != 5 || sum.GetLines() != 10 || sum.GetTotalCents() != total {
			t.Fatalf("summary %v, want total %d", sum, total)
		}
	})
}

func TestImportAbortsOnBadInput(t *testing.T) {
	_, cc := testServer(t, "net", nil)
	bad := func(mut func(o *pb.PurchaseOrder)) []*pb.PurchaseOrder {
		os := SampleOrders(1, 2)
		mut(os[1])
		return os
	}
	big := &pb.PurchaseOrder{OrderId: "BIG"}
	for range MaxLines {
		big.Lines = append(big.Lines, &pb.OrderLine{Sku: "S", Quantity: MaxQuantity, UnitPriceCents: MaxUnitPrice})
	}
	for _, tc := range []struct {
		name   string
		batch  string
		chunks [][]*pb.PurchaseOrder
		code   codes.Code
		msg    string
	}{
		{"quantity 0", "b", [][]*pb.PurchaseOrder{bad(func(o *pb.PurchaseOrder) { o.Lines[0].Quantity = 0 })}, codes.InvalidArgument, `order 2 ("PO-2"): line 1: quantity 0`},
		{"negative price", "b", [][]*pb.PurchaseOrder{bad(func(o *pb.PurchaseOrder) { o.Lines[1].UnitPriceCents = -1 })}, codes.InvalidArgument, "line 2: unit price -1"},
		{"no lines", "b", [][]*pb.PurchaseOrder{bad(func(o *pb.PurchaseOrder) { o.Lines = nil })}, codes.InvalidArgument, "1 to 1000 lines, not 0"},
		{"no order id", "b", [][]*pb.PurchaseOrder{bad(func(o *pb.PurchaseOrder) { o.OrderId = "" })}, codes.InvalidArgument, "order_id must be"},
		{"huge order id", "b", [][]*pb.PurchaseOrder{bad(func(o *pb.PurchaseOrder) { o.OrderId = strings.Repeat("x", 100000) })}, codes.InvalidArgument, "xxx..."},
		{"no batch id", "", nil, codes.InvalidArgument, "batch_id must be"},
		{"batch total overflows", "b", [][]*pb.PurchaseOrder{{big}, {big}, {big}, {big}, {big}, {big}, {big}, {big}, {big}, {big}}, codes.OutOfRange, `order 10 ("BIG"): batch total overflows`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			confs, _, err := importOrders(t, cc, tc.batch, tc.chunks...)
			if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.msg) {
				t.Fatalf("error %v, want %v containing %q", err, tc.code, tc.msg)
			}
			if len(status.Convert(err).Message()) > 300 {
				t.Fatalf("error message not clipped: %d bytes", len(status.Convert(err).Message()))
			}
			// Orders before the bad chunk are confirmed, none after.
			if tc.name == "batch total overflows" && len(confs) != 9 {
				t.Fatalf("confirmations before the overflow: %d chunks", len(confs))
			}
		})
	}
	// The server is still fine.
	if _, _, err := importOrders(t, cc, "ok", SampleOrders(1, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestIntPipeAbortAfterAndBadParams(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		_, cc := testServer(t, tr, nil)
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{AbortAfter: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := call.Push([]int32{int32(i)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = call.Result()
		if status.Code(err) != codes.Aborted || status.Convert(err).Message() != "aborted after 2 chunks, as asked" {
			t.Fatalf("result %v", err)
		}
		if _, err := call.Pull(); status.Code(err) != codes.Aborted {
			t.Fatalf("pull after abort: %v", err)
		}

		call, err = StartInt(testCtx(t), cc, &pb.IntPipeParams{OutChunks: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := call.Result(); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("bad params: %v", err)
		}
	})
}

// checkNoLeak fails if goroutines started after snapshot are still alive
// once things settle (goleak retries for a while).
func checkNoLeak(t *testing.T, snapshot goleak.Option) {
	t.Helper()
	if err := goleak.Find(snapshot); err != nil {
		t.Fatal(err)
	}
}

// MaxConns holds a second client in the backlog until the first leaves;
// MaxCalls refuses a connection's calls past the bound.
func TestConnectionAndCallLimits(t *testing.T) {
	s := NewServer(Config{Addr: "127.0.0.1:0", MaxConns: 1, MaxCalls: 2, Logger: slog.New(slog.DiscardHandler)})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	oneCall := func(cc *grpc.ClientConn, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		call, err := StartInt(ctx, cc, &pb.IntPipeParams{})
		if err != nil {
			return err
		}
		if err := call.Push(nil); err != nil {
			return err
		}
		_, err = call.Result()
		return err
	}
	cc1, _ := Dial(s.Addr().String())
	defer cc1.Close()
	if err := oneCall(cc1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Two calls held open on cc1; a third one waits for a stream.
	ctx, cancel := context.WithCancel(context.Background())
	for range 2 {
		if _, err := StartInt(ctx, cc1, &pb.IntPipeParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := oneCall(cc1, 300*time.Millisecond); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a third concurrent call on one connection: %v", err)
	}
	cancel()
	cc2, _ := Dial(s.Addr().String())
	defer cc2.Close()
	if err := oneCall(cc2, 300*time.Millisecond); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a second connection past MaxConns: %v", err)
	}
	cc1.Close()
	if err := oneCall(cc2, 10*time.Second); err != nil {
		t.Fatalf("once the first connection left: %v", err)
	}
}

// A stopped server starts again, on a new address; a port in use is
// reported with the address and the cause.
func TestStopStartAgainAndAddressInUse(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		s, _ := testServer(t, tr, nil)
		first := s.Addr().String()
		if err := s.Start(); !errors.Is(err, ErrRunning) {
			t.Fatalf("second Start: %v", err)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s.Addr() != nil {
			t.Fatal("stopped server has an address")
		}
		other := NewServer(Config{Addr: first, Logger: slog.New(slog.DiscardHandler)})
		if err := other.Start(); err != nil {
			t.Fatal(err)
		}
		defer other.Stop(context.Background())
		s.SetAddr(first)
		err := s.Start()
		if err == nil || !strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("start on a used port: %v", err)
		}
		s.SetAddr("127.0.0.1:0")
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		cc2, _ := Dial(s.Addr().String())
		defer cc2.Close()
		call, _ := StartInt(testCtx(t), cc2, &pb.IntPipeParams{})
		call.Push(nil)
		if r, err := call.Result(); err != nil || r.GetB() != 10 {
			t.Fatalf("after restart: %v %v", r, err)
		}
	})
}
