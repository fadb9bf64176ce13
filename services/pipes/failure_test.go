package pipes

// Calls that end early (client cancel, server abort, connection reset),
// and input that is malformed, truncated, oversized, slow or abruptly cut:
// the handler's context is cancelled, no goroutine is left behind, and the
// server keeps serving.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/overlap-go/overlap/protocols/pipe"
	pb "github.com/overlap-go/overlap/services/pipes/pipespb"
)

// hooked is a pipes service whose IntPipe runs a test's handler.
type hooked struct {
	pb.UnimplementedPipesServer
	h pipe.Handler[*pb.IntPipeParams, int32, int32, *pb.IntPipeReply]
}

func (s *hooked) IntPipe(st grpc.BidiStreamingServer[pb.IntPipeRequest, pb.IntPipeResponse]) error {
	return pipe.Serve(st, IntMessages, s.h)
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// endedHandler is an asynchronous handler, like the seed's: it returns at
// once and a goroutine of its own pulls, pushes each chunk back, and
// reports how the call's context ended.
func endedHandler(pulled chan<- int, ctxEnded chan<- error) func(c *IntCall) {
	return func(c *IntCall) {
		go func() {
			n := 0
			for {
				chunk, err := c.Pull()
				if err != nil {
					break
				}
				n++
				pulled <- n
				if c.Params().GetAbortAfter() > 0 && n >= int(c.Params().GetAbortAfter()) {
					c.Abort(codes.ResourceExhausted, "enough")
					break
				}
				if c.Push(chunk) != nil {
					break
				}
			}
			<-c.Context().Done()
			ctxEnded <- c.Context().Err()
		}()
	}
}

func TestClientCancelMidPipe(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		pulled, ended := make(chan int, 100), make(chan error, 1)
		s, _ := testServer(t, tr, &hooked{h: endedHandler(pulled, ended)})
		snapshot := goleak.IgnoreCurrent()
		cc, err := Dial(s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := call.Push([]int32{int32(i)}); err != nil {
				t.Fatal(err)
			}
			wait(t, pulled, "a pull")
			if _, err := call.Pull(); err != nil {
				t.Fatal(err)
			}
		}
		call.Cancel()
		if err := wait(t, ended, "the handler's context to end"); !errors.Is(err, context.Canceled) {
			t.Fatalf("handler context ended with %v", err)
		}
		if _, err := call.Result(); status.Code(err) != codes.Canceled {
			t.Fatalf("result after cancel: %v", err)
		}
		if err := call.Push([]int32{1}); err == nil {
			t.Fatal("push after cancel succeeded")
		}
		cc.Close()
		checkNoLeak(t, snapshot)
	})
}

func TestServerAbortMidPipe(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		pulled, ended := make(chan int, 100), make(chan error, 1)
		s, _ := testServer(t, tr, &hooked{h: endedHandler(pulled, ended)})
		snapshot := goleak.IgnoreCurrent()
		cc, err := Dial(s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{AbortAfter: 3})
		if err != nil {
			t.Fatal(err)
		}
		// The client keeps pushing until the abort stops it.
		pushErr := make(chan error, 1)
		go func() {
			for {
				if err := call.Push([]int32{1, 2, 3}); err != nil {
					pushErr <- err
					return
				}
			}
		}()
		if err := wait(t, ended, "the handler's context to end"); err == nil {
			t.Fatal("handler context not ended")
		}
		_, err = call.Result()
		if status.Code(err) != codes.ResourceExhausted || status.Convert(err).Message() != "enough" {
			t.Fatalf("result %v", err)
		}
		if err := wait(t, pushErr, "the pusher to stop"); !errors.Is(err, pipe.ErrEnded) && status.Code(err) == codes.OK {
			t.Fatalf("push after abort: %v", err)
		}
		cc.Close()
		checkNoLeak(t, snapshot)
	})
}

func TestConnectionResetMidPipe(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		pulled, ended := make(chan int, 100), make(chan error, 1)
		s, _ := testServer(t, tr, &hooked{h: endedHandler(pulled, ended)})
		snapshot := goleak.IgnoreCurrent()
		conns := make(chan *net.TCPConn, 1)
		cc, err := Dial(s.Addr().String(), grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				select {
				case conns <- c.(*net.TCPConn):
				default:
				}
			}
			return c, err
		}))
		if err != nil {
			t.Fatal(err)
		}
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		if err := call.Push([]int32{7}); err != nil {
			t.Fatal(err)
		}
		wait(t, pulled, "a pull")
		c := wait(t, conns, "the connection")
		c.SetLinger(0) // close with RST
		c.Close()
		if err := wait(t, ended, "the handler's context to end"); err == nil {
			t.Fatal("handler context not ended")
		}
		if _, err := call.Result(); status.Code(err) != codes.Unavailable && status.Code(err) != codes.Canceled && status.Code(err) != codes.Internal {
			t.Fatalf("result after reset: %v", err)
		}
		cc.Close()
		checkNoLeak(t, snapshot)
	})
}

// PushAsync as the seed uses it: each next push started from the
// send-complete notification of the previous one, the call completed from
// the last notification.
func TestPushAsyncDrivenByNotifications(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		const chunks, size = 40, 64 << 10 // 40 chunks of 256 KiB: well past the windows
		pending := make(chan error, 1)
		h := func(c *IntCall) {
			buf := make([]int32, size)
			i := 0
			var notify func(error)
			notify = func(err error) {
				if err != nil {
					c.Abort(codes.Internal, err.Error())
					return
				}
				i++
				switch {
				case i < chunks:
					buf[0] = int32(i)
					chunk := append([]int32(nil), buf...)
					if err := c.PushAsync(chunk, notify); err != nil {
						c.Abort(codes.Internal, err.Error())
					}
					if i == chunks/2 {
						// One push in flight: another is refused.
						pending <- c.PushAsync([]int32{1}, func(error) { panic("ran") })
					}
				case i == chunks:
					c.PushAsync(nil, notify) // the empty chunk ends the [out] pipe
				default:
					c.Complete(&pb.IntPipeReply{B: 10, OutChunks: chunks})
				}
			}
			if err := c.PushAsync(append([]int32(nil), buf...), notify); err != nil {
				c.Abort(codes.Internal, err.Error())
			}
		}
		_, cc := testServer(t, tr, &hooked{h: h})
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			c, err := call.Pull()
			if err == io.EOF {
				if i != chunks {
					t.Fatalf("%d chunks, want %d", i, chunks)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c) != size || c[0] != int32(i) {
				t.Fatalf("chunk %d: %d values starting %d", i, len(c), c[0])
			}
		}
		r, err := call.Result()
		if err != nil || r.GetOutChunks() != chunks {
			t.Fatalf("result %v %v", r, err)
		}
		if err := wait(t, pending, "the refused push"); !errors.Is(err, pipe.ErrPushPending) && !errors.Is(err, pipe.ErrPipeEnded) {
			t.Fatalf("second PushAsync in flight: %v", err)
		}
	})
}

func TestHandlerPanicAbortsTheCallOnly(t *testing.T) {
	_, cc := testServer(t, "net", &hooked{h: func(c *IntCall) {
		if c.Params().GetA() == 1 {
			panic("boom")
		}
		c.Complete(&pb.IntPipeReply{B: 10})
	}})
	call, _ := StartInt(testCtx(t), cc, &pb.IntPipeParams{A: 1})
	if _, err := call.Result(); status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking handler: %v", err)
	}
	call, _ = StartInt(testCtx(t), cc, &pb.IntPipeParams{})
	if r, err := call.Result(); err != nil || r.GetB() != 10 {
		t.Fatalf("next call: %v %v", r, err)
	}
}

// raw sends arbitrary bytes as gRPC messages: the server decodes them with
// its protobuf codec.
type raw struct{}

func (raw) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*(v.(*[]byte)))}, nil
}
func (raw) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*[]byte)) = data.Materialize()
	return nil
}
func (raw) Name() string { return "proto" }

func rawCall(t *testing.T, cc *grpc.ClientConn, method string, msgs ...[]byte) error {
	t.Helper()
	ctx := testCtx(t)
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/overlap.pipes.v1.Pipes/"+method, grpc.ForceCodecV2(raw{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := st.SendMsg(&m); err != nil {
			break
		}
	}
	st.CloseSend()
	for {
		var b []byte
		if err := st.RecvMsg(&b); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func marshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedInputEndsTheCallNotTheServer(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		_, cc := testServer(t, tr, nil)
		params := marshal(t, IntMessages.Params(&pb.IntPipeParams{A: 1}))
		chunk := marshal(t, IntMessages.InChunk([]int32{1, 2, 3}))
		huge := marshal(t, IntMessages.InChunk(make([]int32, 5<<20))) // 5 MiB of zeros: over the 4 MiB cap
		badUTF8 := marshal(t, ImportMessages.InChunk(SampleOrders(1, 1)))
		badUTF8 = []byte(strings.Replace(string(badUTF8), "PO-1", "PO\xff1", 1))
		for _, tc := range []struct {
			name   string
			method string
			msgs   [][]byte
			code   codes.Code
		}{
			{"garbage", "IntPipe", [][]byte{{0xff, 0xff, 0xff, 0xff}}, codes.Internal},
			{"truncated parameters", "IntPipe", [][]byte{params[:len(params)-1]}, codes.Internal},
			{"truncated chunk", "IntPipe", [][]byte{params, chunk[:len(chunk)-2]}, codes.Internal},
			{"a chunk first", "IntPipe", [][]byte{chunk}, codes.InvalidArgument},
			{"an empty message first", "IntPipe", [][]byte{{}}, codes.InvalidArgument},
			{"parameters twice", "IntPipe", [][]byte{params, chunk, params}, codes.InvalidArgument},
			{"an empty message in the pipe", "IntPipe", [][]byte{params, chunk, {}}, codes.InvalidArgument},
			{"nothing at all", "IntPipe", nil, codes.InvalidArgument},
			{"oversized chunk", "IntPipe", [][]byte{params, huge}, codes.ResourceExhausted},
			{"invalid UTF-8 in an order", "Import", [][]byte{marshal(t, ImportMessages.Params(&pb.ImportParams{BatchId: "b"})), badUTF8}, codes.Internal},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := rawCall(t, cc, tc.method, tc.msgs...); status.Code(err) != tc.code {
					t.Fatalf("status %v, want %v", err, tc.code)
				}
			})
		}
		// And a good call still works, on the same connection.
		if err := rawCall(t, cc, "IntPipe", params, chunk); err != nil {
			t.Fatalf("good raw call: %v", err)
		}
	})
}

// Raw TCP that is not HTTP/2, stops in the middle, or trickles in: the
// server drops it and goes on serving, leaving nothing behind.
func TestAbruptAndSlowConnections(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		s, cc := testServer(t, tr, nil)
		call, _ := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		call.Push(nil)
		if _, err := call.Result(); err != nil {
			t.Fatal(err)
		}
		snapshot := goleak.IgnoreCurrent()
		addr := s.Addr().String()
		preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
		for _, input := range []string{
			"",
			"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			preface[:10],
			preface + "\x00\x00\x12\x04\x00\x00\x00\x00", // a SETTINGS frame header, then nothing
			preface + strings.Repeat("\xff", 4096),
		} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(input))
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
		// A client that trickles its preface one byte at a time, while a
		// normal call goes through.
		slow, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var wrote atomic.Int32
		slowDone := make(chan struct{})
		go func() {
			defer close(slowDone)
			for i := range len(preface) {
				if _, err := slow.Write([]byte{preface[i]}); err != nil {
					return
				}
				wrote.Add(1)
				time.Sleep(5 * time.Millisecond) // being slow is the point
			}
		}()
		call, _ = StartInt(testCtx(t), cc, &pb.IntPipeParams{OutChunks: 2, OutChunkLen: 3})
		call.Push(nil)
		if r, err := call.Result(); err != nil || r.GetOutChunks() != 2 {
			t.Fatalf("call beside a slow client: %v %v", r, err)
		}
		<-slowDone
		slow.Close()
		checkNoLeak(t, snapshot)
	})
}

// The client side mirrors the server's: an [in] pipe pushed from
// send-complete notifications, ending with the empty chunk.
func TestClientPushAsyncDrivenByNotifications(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		_, cc := testServer(t, tr, nil)
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		const chunks = 100
		sent := make(chan error, 1)
		i := 0
		var notify func(error)
		notify = func(err error) {
			if err != nil {
				sent <- err
				return
			}
			i++
			switch {
			case i < chunks:
				err = call.PushAsync([]int32{int32(i)}, notify)
			case i == chunks:
				err = call.PushAsync(nil, notify)
			default:
				sent <- nil
			}
			if err != nil {
				sent <- err
			}
		}
		if err := call.PushAsync([]int32{0}, notify); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, sent, "the last notification"); err != nil {
			t.Fatal(err)
		}
		r, err := call.Result()
		if err != nil || r.GetInChunks() != chunks || r.GetInSum() != chunks*(chunks-1)/2 {
			t.Fatalf("result %v %v", r, err)
		}
		if err := call.PushAsync([]int32{1}, notify); err == nil {
			t.Fatal("push after the call ended was accepted")
		}
	})
}

// A gRPC message cut short at the HTTP/2 level: its length prefix
// announces 1000 bytes, the stream ends after 10. The server answers the
// call with an error status (or resets the stream) rather than hang or
// drop the connection.
func TestTruncatedGRPCFrame(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		s, _ := testServer(t, tr, nil)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
			t.Fatal(err)
		}
		fr := http2.NewFramer(c, c)
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		fr.WriteSettings()
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		for _, f := range [][2]string{
			{":method", "POST"}, {":scheme", "http"}, {":path", "/overlap.pipes.v1.Pipes/IntPipe"},
			{":authority", "test"}, {"content-type", "application/grpc"}, {"te", "trailers"},
		} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
		msg := append([]byte{0, 0, 0, 0x03, 0xe8}, make([]byte, 10)...) // 1000 announced, 10 sent
		fr.WriteData(1, true, msg)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("no status for the truncated call: %v", err)
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					fr.WriteSettingsAck()
				}
			case *http2.MetaHeadersFrame:
				if st := f.PseudoValue("status"); st != "" && st != "200" {
					t.Fatalf("HTTP status %s", st)
				}
				code := ""
				for _, hf := range f.RegularFields() {
					if hf.Name == "grpc-status" {
						code = hf.Value
					}
				}
				if code != "" {
					if code == "0" {
						t.Fatal("truncated call ended with status OK")
					}
					return
				}
			case *http2.RSTStreamFrame:
				return // also a refusal of the call
			case *http2.GoAwayFrame:
				t.Fatalf("server dropped the connection: %v", f.ErrCode)
			}
		}
	})
}

// Abort does not wait for a push that the client's full window holds
// back: it returns at once, later pushes fail, and the client, reading its
// way to the end, sees every chunk pushed before the abort, then the
// status.
func TestAbortWhileAPushIsHeldBack(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr string) {
		aborted, pushErr := make(chan error, 1), make(chan error, 1)
		progress := make(chan struct{}, 1<<16)
		var pushed atomic.Int32
		h := func(c *IntCall) {
			go func() {
				chunk := make([]int32, 64<<10) // 64 Ki zeros: 64 KiB a chunk on the wire
				for {
					if err := c.Push(chunk); err != nil {
						pushErr <- err
						return
					}
					pushed.Add(1)
					progress <- struct{}{}
				}
			}()
			go func() {
				// Two pushes done: the third is in flight, and the
				// client, reading nothing, soon holds one back. Abort
				// from here.
				<-progress
				<-progress
				aborted <- c.Abort(codes.FailedPrecondition, "stop")
			}()
		}
		_, cc := testServer(t, tr, &hooked{h: h})
		call, err := StartInt(testCtx(t), cc, &pb.IntPipeParams{})
		if err != nil {
			t.Fatal(err)
		}
		if err := wait(t, aborted, "Abort to return"); err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if _, err := call.Pull(); err != nil {
				if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != "stop" {
					t.Fatalf("after %d chunks: %v", n, err)
				}
				break
			}
			n++
		}
		if err := wait(t, pushErr, "the pusher to stop"); !errors.Is(err, pipe.ErrEnded) {
			t.Fatalf("push after abort: %v", err)
		}
		if n < int(pushed.Load()) {
			t.Fatalf("client read %d chunks, server pushed %d", n, pushed.Load())
		}
	})
}
