// Package pipes is the asynchronous pipe service that `overlap serve pipes`
// runs (default port 8809): two pipe calls over gRPC, on protocols/pipe.
//
//   - IntPipe, the seed's MyAsyncPipeFunc: an [in] pipe and an [out] pipe of
//     integers, completing with counts and sums; used by tests and
//     benchmarks.
//   - Import, in the PurchaseOrder domain: an [in] pipe of purchase orders,
//     an [out] pipe of order confirmations, completing with the batch's
//     totals.
//
// The wire contract is proto/overlap/pipes/v1/pipes.proto.
package pipes

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// DefaultAddr is where `overlap serve` runs the pipes service.
const DefaultAddr = "0.0.0.0:8809"

// Limits on what one call may ask for; larger asks abort the call with
// INVALID_ARGUMENT.
const (
	MaxOutChunks   = 1 << 20
	MaxOutChunkLen = 1 << 18 // 1 MiB of int32, under gRPC's 4 MiB message cap
	MaxIDLen       = 64
	MaxLines       = 1000
	MaxQuantity    = 1_000_000
	MaxUnitPrice   = 1_000_000_000 // cents: $10M
)

// Service implements the generated PipesServer.
type Service struct {
	pb.UnimplementedPipesServer
	log *slog.Logger
}

// NewService returns the service; log may be nil (slog.Default()).
func NewService(log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{log: log}
}

// IntPipe serves one IntPipe call.
func (s *Service) IntPipe(st grpc.BidiStreamingServer[pb.IntPipeRequest, pb.IntPipeResponse]) error {
	return pipe.Serve(st, IntMessages, s.intPipe)
}

// Import serves one Import call.
func (s *Service) Import(st grpc.BidiStreamingServer[pb.ImportRequest, pb.ImportResponse]) error {
	return pipe.Serve(st, ImportMessages, s.importOrders)
}

// intPipe is the seed's manager routine: pull the [in] pipe to its end
// (echoing each chunk when asked), push the generated [out] chunks, each
// push waiting for flow control, end the [out] pipe with an empty chunk,
// and complete with b = 10.
func (s *Service) intPipe(c *IntCall) {
	p := c.Params()
	if p.GetOutChunks() < 0 || p.GetOutChunks() > MaxOutChunks || p.GetOutChunkLen() < 0 || p.GetOutChunkLen() > MaxOutChunkLen {
		c.Abort(codes.InvalidArgument, fmt.Sprintf("out_chunks must be 0..%d and out_chunk_len 0..%d", MaxOutChunks, MaxOutChunkLen))
		return
	}
	a := p.GetA()
	r := &pb.IntPipeReply{B: 10}
	for {
		chunk, err := c.Pull()
		if err == io.EOF {
			break
		}
		if err != nil {
			return // the call is over: cancelled, or aborted by Pull
		}
		r.InChunks++
		r.InValues += int64(len(chunk))
		for _, v := range chunk {
			r.InSum += int64(v) // wraps past 2^63, as documented
		}
		if p.GetAbortAfter() > 0 && r.InChunks >= int64(p.GetAbortAfter()) {
			c.Abort(codes.Aborted, fmt.Sprintf("aborted after %d chunks, as asked", r.InChunks))
			return
		}
		if p.GetEcho() {
			out := make([]int32, len(chunk))
			for i, v := range chunk {
				out[i] = v + a
			}
			if c.Push(out) != nil {
				return
			}
			r.OutChunks++
			r.OutValues += int64(len(out))
		}
	}
	n := p.GetOutChunkLen()
	for k := range p.GetOutChunks() {
		if n == 0 {
			break // an empty chunk would end the pipe
		}
		out := make([]int32, n)
		for j := range out {
			out[j] = a + k*n + int32(j)
		}
		if c.Push(out) != nil {
			return
		}
		r.OutChunks++
		r.OutValues += int64(n)
	}
	if c.Push(nil) != nil { // the seed's last push(0): end of the [out] pipe
		return
	}
	c.Complete(r)
}

// importOrders confirms each chunk of orders with one chunk of
// confirmations. The next chunk is pulled only once the confirmations are
// pushed, so a client that does not read its confirmations stops being
// read from: flow control, end to end.
func (s *Service) importOrders(c *ImportCall) {
	batch := c.Params().GetBatchId()
	if len(batch) == 0 || len(batch) > MaxIDLen {
		c.Abort(codes.InvalidArgument, fmt.Sprintf("batch_id must be 1 to %d bytes", MaxIDLen))
		return
	}
	sum := &pb.ImportSummary{BatchId: batch}
	for {
		orders, err := c.Pull()
		if err == io.EOF {
			break
		}
		if err != nil {
			return
		}
		confs := make([]*pb.OrderConfirmation, len(orders))
		for i, o := range orders {
			n := sum.Orders + 1
			total, err := orderTotal(o)
			if err != nil {
				c.Abort(codes.InvalidArgument, fmt.Sprintf("order %d (%q): %v", n, clip(o.GetOrderId()), err))
				return
			}
			t, carry := bits.Add64(uint64(sum.TotalCents), uint64(total), 0)
			if carry != 0 || t > math.MaxInt64 {
				c.Abort(codes.OutOfRange, fmt.Sprintf("order %d (%q): batch total overflows", n, clip(o.GetOrderId())))
				return
			}
			sum.Orders, sum.Lines, sum.TotalCents = n, sum.Lines+int64(len(o.GetLines())), int64(t)
			confs[i] = &pb.OrderConfirmation{
				OrderId:        o.GetOrderId(),
				ConfirmationId: fmt.Sprintf("%s-%d", batch, n),
				Lines:          int32(len(o.GetLines())),
				TotalCents:     total,
			}
		}
		if c.Push(confs) != nil {
			return
		}
	}
	if c.Push(nil) != nil {
		return
	}
	c.Complete(sum)
}

// orderTotal validates an order and returns its total in cents; with the
// limits above it cannot overflow (1000 lines × 10^6 × 10^9 = 10^18 < 2^63).
func orderTotal(o *pb.PurchaseOrder) (int64, error) {
	if id := o.GetOrderId(); len(id) == 0 || len(id) > MaxIDLen {
		return 0, fmt.Errorf("order_id must be 1 to %d bytes", MaxIDLen)
	}
	lines := o.GetLines()
	if len(lines) == 0 || len(lines) > MaxLines {
		return 0, fmt.Errorf("an order has 1 to %d lines, not %d", MaxLines, len(lines))
	}
	var total int64
	for i, l := range lines {
		switch {
		case len(l.GetSku()) == 0 || len(l.GetSku()) > MaxIDLen:
			return 0, fmt.Errorf("line %d: sku must be 1 to %d bytes", i+1, MaxIDLen)
		case l.GetQuantity() < 1 || l.GetQuantity() > MaxQuantity:
			return 0, fmt.Errorf("line %d: quantity %d is not 1 to %d", i+1, l.GetQuantity(), MaxQuantity)
		case l.GetUnitPriceCents() < 0 || l.GetUnitPriceCents() > MaxUnitPrice:
			return 0, fmt.Errorf("line %d: unit price %d is not 0 to %d cents", i+1, l.GetUnitPriceCents(), int64(MaxUnitPrice))
		}
		total += int64(l.GetQuantity()) * l.GetUnitPriceCents()
	}
	return total, nil
}

// clip shortens an id quoted in an error: it came from the network.
func clip(s string) string {
	if len(s) <= MaxIDLen {
		return s
	}
	s = s[:MaxIDLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}
