// The client side: what `overlap send pipe` and the benchmarks drive.

package pipes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// Dial opens a gRPC client connection to a pipes server (plaintext).
func Dial(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	return grpc.NewClient(addr, opts...)
}

// StartInt begins an IntPipe call.
func StartInt(ctx context.Context, cc grpc.ClientConnInterface, p *pb.IntPipeParams) (*IntClientCall, error) {
	return pipe.Start(ctx, pb.NewPipesClient(cc).IntPipe, IntMessages, p)
}

// StartImport begins an Import call.
func StartImport(ctx context.Context, cc grpc.ClientConnInterface, p *pb.ImportParams) (*ImportClientCall, error) {
	return pipe.Start(ctx, pb.NewPipesClient(cc).Import, ImportMessages, p)
}

// SendConfig describes one run of `overlap send pipe`.
type SendConfig struct {
	// Call is "ints" (IntPipe, echoing) or "orders" (Import).
	Call string
	// Chunks is how many [in] chunks to push; 0 pushes until Duration.
	Chunks int64
	// ChunkLen is the number of elements (integers, or orders) per chunk.
	ChunkLen int
	// Duration bounds the run.
	Duration time.Duration
}

// SendResult is what a run measured.
type SendResult struct {
	Call      string        `json:"call"`
	InChunks  int64         `json:"in_chunks"`
	OutChunks int64         `json:"out_chunks"`
	InBytes   int64         `json:"in_bytes"` // encoded [in] chunk messages
	Elapsed   time.Duration `json:"elapsed_ns"`
	Reply     string        `json:"reply"` // the completion values
}

// ChunksPerSec is [in] chunks through the pipe (pushed, and answered on
// the [out] pipe) per second.
func (r SendResult) ChunksPerSec() float64 { return float64(r.OutChunks) / r.Elapsed.Seconds() }

// MBPerSec is megabytes (10^6) of [in] chunk messages per second.
func (r SendResult) MBPerSec() float64 { return float64(r.InBytes) / 1e6 / r.Elapsed.Seconds() }

// Send runs one pipe call on cc: it pushes chunks on one goroutine while
// pulling the answers on another, checks every answer, and completes the
// call. progress, if set, is called with the chunks answered so far.
func Send(ctx context.Context, cc grpc.ClientConnInterface, cfg SendConfig, progress func(done int64)) (SendResult, error) {
	if cfg.ChunkLen < 1 {
		return SendResult{}, errors.New("send pipe: chunk length must be at least 1")
	}
	if cfg.Duration <= 0 {
		cfg.Duration = time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	switch cfg.Call {
	case "ints":
		return sendInts(ctx, cc, cfg, progress)
	case "orders":
		return sendOrders(ctx, cc, cfg, progress)
	}
	return SendResult{}, fmt.Errorf("send pipe: unknown call %q (ints or orders)", cfg.Call)
}

// run pushes chunks until the count is reached or ctx ends, then ends the
// pipe, while pull checks the answers; it returns the chunks pushed. On a
// failed pull it cancels the call, so that a push waiting on flow control
// returns.
func run(ctx context.Context, cfg SendConfig, push, end func() error, pull func() (bool, error), cancel func()) (int64, error) {
	var pushed atomic.Int64
	pushErr := make(chan error, 1)
	go func() {
		for cfg.Chunks == 0 || pushed.Load() < cfg.Chunks {
			if ctx.Err() != nil {
				break // time is up: end the pipe cleanly
			}
			if err := push(); err != nil {
				pushErr <- err
				return
			}
			pushed.Add(1)
		}
		pushErr <- end()
	}()
	for {
		more, err := pull()
		if err != nil {
			cancel()
			<-pushErr
			return pushed.Load(), err
		}
		if !more {
			break
		}
	}
	return pushed.Load(), <-pushErr
}

func sendInts(ctx context.Context, cc grpc.ClientConnInterface, cfg SendConfig, progress func(int64)) (SendResult, error) {
	const a = 7
	// The call itself is not bound by ctx's deadline: when time is up the
	// pusher ends the pipe and the call completes normally.
	call, err := StartInt(context.WithoutCancel(ctx), cc, &pb.IntPipeParams{A: a, Echo: true})
	if err != nil {
		return SendResult{}, err
	}
	defer call.Cancel()
	chunk := make([]int32, cfg.ChunkLen)
	for i := range chunk {
		chunk[i] = int32(i)
	}
	size := int64(proto.Size(IntMessages.InChunk(chunk)))
	res := SendResult{Call: "ints"}
	start := time.Now()
	pushed, err := run(ctx, cfg,
		func() error { return call.Push(chunk) },
		func() error { return call.Push(nil) },
		func() (bool, error) {
			out, err := call.Pull()
			if err == io.EOF {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if len(out) != len(chunk) || out[0] != a || out[len(out)-1] != int32(len(out)-1)+a {
				return false, fmt.Errorf("send pipe: chunk %d came back wrong", res.OutChunks+1)
			}
			res.OutChunks++
			if progress != nil {
				progress(res.OutChunks)
			}
			return true, nil
		}, call.Cancel)
	if err != nil {
		return res, err
	}
	reply, err := call.Result()
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	res.InChunks, res.InBytes = pushed, pushed*size
	if reply.GetInChunks() != pushed || reply.GetOutChunks() != res.OutChunks {
		return res, fmt.Errorf("send pipe: server counted %d chunks in, %d out; client %d, %d", reply.GetInChunks(), reply.GetOutChunks(), pushed, res.OutChunks)
	}
	res.Reply = fmt.Sprintf("b=%d in_chunks=%d in_values=%d in_sum=%d out_chunks=%d", reply.GetB(), reply.GetInChunks(), reply.GetInValues(), reply.GetInSum(), reply.GetOutChunks())
	return res, nil
}

// SampleOrders returns n valid purchase orders, numbered from first.
func SampleOrders(first, n int) []*pb.PurchaseOrder {
	orders := make([]*pb.PurchaseOrder, n)
	for i := range orders {
		k := first + i
		orders[i] = &pb.PurchaseOrder{
			OrderId:  fmt.Sprintf("PO-%d", k),
			Customer: "ACME Corp",
			Lines: []*pb.OrderLine{
				{Sku: "WIDGET-1", Quantity: 2, UnitPriceCents: 1250},
				{Sku: "GADGET-7", Quantity: int32(1 + k%5), UnitPriceCents: 999},
			},
		}
	}
	return orders
}

func sendOrders(ctx context.Context, cc grpc.ClientConnInterface, cfg SendConfig, progress func(int64)) (SendResult, error) {
	call, err := StartImport(context.WithoutCancel(ctx), cc, &pb.ImportParams{BatchId: "send"})
	if err != nil {
		return SendResult{}, err
	}
	defer call.Cancel()
	res := SendResult{Call: "orders"}
	var inBytes int64
	var sent atomic.Int64
	start := time.Now()
	pushed, err := run(ctx, cfg,
		func() error {
			orders := SampleOrders(int(sent.Load())*cfg.ChunkLen+1, cfg.ChunkLen)
			inBytes += int64(proto.Size(ImportMessages.InChunk(orders)))
			sent.Add(1)
			return call.Push(orders)
		},
		func() error { return call.Push(nil) },
		func() (bool, error) {
			confs, err := call.Pull()
			if err == io.EOF {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if len(confs) != cfg.ChunkLen {
				return false, fmt.Errorf("send pipe: %d confirmations for %d orders", len(confs), cfg.ChunkLen)
			}
			res.OutChunks++
			if progress != nil {
				progress(res.OutChunks)
			}
			return true, nil
		}, call.Cancel)
	if err != nil {
		return res, err
	}
	sum, err := call.Result()
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	res.InChunks, res.InBytes = pushed, inBytes
	if sum.GetOrders() != pushed*int64(cfg.ChunkLen) {
		return res, fmt.Errorf("send pipe: server confirmed %d orders, client sent %d", sum.GetOrders(), pushed*int64(cfg.ChunkLen))
	}
	res.Reply = fmt.Sprintf("batch=%s orders=%d lines=%d total_cents=%d", sum.GetBatchId(), sum.GetOrders(), sum.GetLines(), sum.GetTotalCents())
	return res, nil
}
