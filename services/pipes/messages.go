// How the generated messages of proto/overlap/pipes/v1/pipes.proto carry
// pipe calls: pure codecs, no I/O.

package pipes

import (
	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// IntCall is the server side of an IntPipe call.
type IntCall = pipe.Call[*pb.IntPipeParams, int32, int32, *pb.IntPipeReply]

// IntClientCall is the client side of an IntPipe call.
type IntClientCall = pipe.ClientCall[*pb.IntPipeParams, int32, int32, *pb.IntPipeReply]

// ImportCall is the server side of an Import call.
type ImportCall = pipe.Call[*pb.ImportParams, *pb.PurchaseOrder, *pb.OrderConfirmation, *pb.ImportSummary]

// ImportClientCall is the client side of an Import call.
type ImportClientCall = pipe.ClientCall[*pb.ImportParams, *pb.PurchaseOrder, *pb.OrderConfirmation, *pb.ImportSummary]

// IntMessages maps IntPipe's messages to a pipe call.
var IntMessages = &pipe.Messages[*pb.IntPipeParams, int32, int32, *pb.IntPipeReply, pb.IntPipeRequest, pb.IntPipeResponse]{
	Request: func(m *pb.IntPipeRequest) (*pb.IntPipeParams, []int32, pipe.Kind) {
		switch x := m.GetMsg().(type) {
		case *pb.IntPipeRequest_Params:
			return x.Params, nil, pipe.KindParams
		case *pb.IntPipeRequest_Chunk:
			return nil, x.Chunk.GetValues(), pipe.KindChunk
		}
		return nil, nil, pipe.KindNone
	},
	Response: func(m *pb.IntPipeResponse) ([]int32, *pb.IntPipeReply, pipe.Kind) {
		switch x := m.GetMsg().(type) {
		case *pb.IntPipeResponse_Chunk:
			return x.Chunk.GetValues(), nil, pipe.KindChunk
		case *pb.IntPipeResponse_Reply:
			return nil, x.Reply, pipe.KindReply
		}
		return nil, nil, pipe.KindNone
	},
	Params: func(p *pb.IntPipeParams) *pb.IntPipeRequest {
		return &pb.IntPipeRequest{Msg: &pb.IntPipeRequest_Params{Params: p}}
	},
	InChunk: func(c []int32) *pb.IntPipeRequest {
		return &pb.IntPipeRequest{Msg: &pb.IntPipeRequest_Chunk{Chunk: &pb.IntChunk{Values: c}}}
	},
	OutChunk: func(c []int32) *pb.IntPipeResponse {
		return &pb.IntPipeResponse{Msg: &pb.IntPipeResponse_Chunk{Chunk: &pb.IntChunk{Values: c}}}
	},
	Reply: func(r *pb.IntPipeReply) *pb.IntPipeResponse {
		return &pb.IntPipeResponse{Msg: &pb.IntPipeResponse_Reply{Reply: r}}
	},
}

// ImportMessages maps Import's messages to a pipe call.
var ImportMessages = &pipe.Messages[*pb.ImportParams, *pb.PurchaseOrder, *pb.OrderConfirmation, *pb.ImportSummary, pb.ImportRequest, pb.ImportResponse]{
	Request: func(m *pb.ImportRequest) (*pb.ImportParams, []*pb.PurchaseOrder, pipe.Kind) {
		switch x := m.GetMsg().(type) {
		case *pb.ImportRequest_Params:
			return x.Params, nil, pipe.KindParams
		case *pb.ImportRequest_Orders:
			return nil, x.Orders.GetOrders(), pipe.KindChunk
		}
		return nil, nil, pipe.KindNone
	},
	Response: func(m *pb.ImportResponse) ([]*pb.OrderConfirmation, *pb.ImportSummary, pipe.Kind) {
		switch x := m.GetMsg().(type) {
		case *pb.ImportResponse_Confirmations:
			return x.Confirmations.GetConfirmations(), nil, pipe.KindChunk
		case *pb.ImportResponse_Summary:
			return nil, x.Summary, pipe.KindReply
		}
		return nil, nil, pipe.KindNone
	},
	Params: func(p *pb.ImportParams) *pb.ImportRequest {
		return &pb.ImportRequest{Msg: &pb.ImportRequest_Params{Params: p}}
	},
	InChunk: func(c []*pb.PurchaseOrder) *pb.ImportRequest {
		return &pb.ImportRequest{Msg: &pb.ImportRequest_Orders{Orders: &pb.OrderChunk{Orders: c}}}
	},
	OutChunk: func(c []*pb.OrderConfirmation) *pb.ImportResponse {
		return &pb.ImportResponse{Msg: &pb.ImportResponse_Confirmations{Confirmations: &pb.ConfirmationChunk{Confirmations: c}}}
	},
	Reply: func(r *pb.ImportSummary) *pb.ImportResponse {
		return &pb.ImportResponse{Msg: &pb.ImportResponse_Summary{Summary: r}}
	},
}
