package pipes

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// FuzzRequests decodes arbitrary bytes as the request messages of both
// calls and runs them through the codecs and the order checker, as the
// server does with what arrives: nothing panics, and a message that
// decodes is classified as exactly what it carries.
func FuzzRequests(f *testing.F) {
	for _, m := range []proto.Message{
		IntMessages.Params(&pb.IntPipeParams{A: 5, Echo: true, OutChunks: 3}),
		IntMessages.InChunk([]int32{1, -2, 1 << 30}),
		IntMessages.InChunk(nil),
		ImportMessages.Params(&pb.ImportParams{BatchId: "b"}),
		ImportMessages.InChunk(SampleOrders(1, 2)),
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var seq pipe.Requests
		var ir pb.IntPipeRequest
		if proto.Unmarshal(b, &ir) == nil {
			_, chunk, kind := IntMessages.Request(&ir)
			switch ir.GetMsg().(type) {
			case *pb.IntPipeRequest_Params:
				if kind != pipe.KindParams {
					t.Fatalf("params classified as %v", kind)
				}
			case *pb.IntPipeRequest_Chunk:
				if kind != pipe.KindChunk || len(chunk) != len(ir.GetChunk().GetValues()) {
					t.Fatalf("chunk classified as %v with %d values", kind, len(chunk))
				}
			default:
				if kind != pipe.KindNone {
					t.Fatalf("empty message classified as %v", kind)
				}
			}
			seq.Next(kind, len(chunk))
		}
		var or pb.ImportRequest
		if proto.Unmarshal(b, &or) == nil {
			params, orders, kind := ImportMessages.Request(&or)
			if kind == pipe.KindParams {
				_ = params.GetBatchId()
			}
			for _, o := range orders {
				orderTotal(o) // validation never panics on what decodes
			}
		}
	})
}
