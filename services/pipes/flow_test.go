package pipes

// Flow control is real: a server that pulls slowly makes a fast client
// wait, and the server's memory stays bounded while the client tries to
// push a gigabyte.

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

func TestSlowServerMakesFastClientWait(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		const (
			chunkValues = 64 << 10         // 64 Ki values of 5 bytes: 320 KiB a message
			chunkBytes  = 5 * chunkValues  // on the wire
			goal        = 1 << 30          // what the client tries to push
			pulls       = 40               // what the server pulls, slowly
			window      = 1 << 20          // the server's stream and connection windows
			bound       = 4*window + 8<<20 // windows, the client's buffers, a message or two in flight
		)
		var pushed, pulled atomic.Int64
		type sample struct{ ahead, heap int64 }
		samples := make(chan sample, pulls)
		h := func(c *IntCall) {
			// The handler closes samples itself: the test's range over them
			// then also waits for the handler (a network round trip is no
			// happens-before edge for the race detector).
			defer close(samples)
			tick := time.NewTicker(10 * time.Millisecond) // the slow consumer
			defer tick.Stop()
			for i := range pulls {
				<-tick.C
				chunk, err := c.Pull()
				if err != nil {
					c.Abort(codes.Internal, err.Error())
					return
				}
				pulled.Add(int64(len(chunk) * 5))
				if i%10 == 9 {
					var ms runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&ms)
					samples <- sample{pushed.Load() - pulled.Load(), int64(ms.HeapInuse)}
				}
			}
			c.Abort(codes.ResourceExhausted, "that will do")
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := int64(ms.HeapInuse)
		_, cc := testServer(t, tr, &hooked{h: h}, grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window))
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]int32, chunkValues)
		for i := range chunk {
			chunk[i] = 1 << 28 // five bytes as a varint
		}
		pushErr := make(chan error, 1)
		go func() {
			for pushed.Load() < goal {
				if err := call.Push(chunk); err != nil {
					pushErr <- err
					return
				}
				pushed.Add(chunkBytes)
			}
			pushErr <- nil
		}()
		if _, err := call.Result(); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("result %v", err)
		}
		if err := wait(t, pushErr, "the pusher"); !errors.Is(err, pipe.ErrEnded) && status.Code(err) == codes.OK {
			t.Fatalf("pusher ended with %v", err)
		}
		for s := range samples {
			t.Logf("client ahead of the server by %.1f MiB; heap %.1f MiB (%.1f MiB at start)", float64(s.ahead)/(1<<20), float64(s.heap)/(1<<20), float64(base)/(1<<20))
			if s.ahead > bound {
				t.Errorf("client %d bytes ahead of a slow server: flow control did not hold it back (bound %d)", s.ahead, bound)
			}
			if s.heap-base > 64<<20 {
				t.Errorf("heap grew by %d bytes while the client pushed", s.heap-base)
			}
		}
		if p := pushed.Load(); p >= goal || p < pulled.Load() {
			t.Fatalf("client pushed %d bytes, server pulled %d", p, pulled.Load())
		}
	})
}
