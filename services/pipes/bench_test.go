package pipes

// Benchmarks: chunks through an echoing IntPipe, served over Go's net and
// over overlap's engine (socket/netconn), with the same grpc-go client.
// docs/BENCHMARKS.md ("Asynchronous pipes") has the figures and the
// command.

import (
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

func BenchmarkPipe(b *testing.B) {
	for _, tr := range transports {
		for _, values := range []int{64, 16 << 10} {
			b.Run(fmt.Sprintf("%s/values=%d", tr, values), func(b *testing.B) {
				_, cc := testServer(b, tr, nil)
				chunk := make([]int32, values)
				for i := range chunk {
					chunk[i] = 1 << 28
				}
				b.SetBytes(int64(proto.Size(IntMessages.InChunk(chunk))))
				call, err := StartInt(b.Context(), cc, &pb.IntPipeParams{Echo: true})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				pushErr := make(chan error, 1)
				go func() {
					for range b.N {
						if err := call.Push(chunk); err != nil {
							pushErr <- err
							return
						}
					}
					pushErr <- call.Push(nil)
				}()
				for n := 0; ; n++ {
					_, err := call.Pull()
					if err == io.EOF {
						if n != b.N {
							b.Fatalf("%d chunks back, want %d", n, b.N)
						}
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := <-pushErr; err != nil {
					b.Fatal(err)
				}
				if _, err := call.Result(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "chunks/s")
			})
		}
	}
}
