// Package pipe is overlap's asynchronous pipe call: MS-RPC's server-side
// asynchronous pipes (seed 001) in Go, typed with generics, carried by a
// gRPC bidirectional stream so that clients in any language can call it.
//
// A call has [in] parameters P, an [in] pipe of elements I, an [out] pipe
// of elements O and [out] parameters (the reply) R. The server's handler
// receives a *Call: it pulls [in] chunks until the pipe ends (Pull returns
// io.EOF), pushes [out] chunks one at a time, each push returning, or with
// PushAsync notifying, once flow control lets the next one go, then ends the
// call with Complete(reply) or Abort(code, message). The client's *ClientCall
// mirrors it. The wire shape is documented in
// proto/overlap/pipes/v1/pipes.proto; Messages maps one RPC's generated
// messages onto it, and Requests/Responses check the order of messages
// without doing any I/O.
//
// Flow control is HTTP/2's, end to end: a push waits while the peer's
// stream window is full, and a side that does not pull leaves its window
// full. Neither side buffers more than the windows grpc-go grants.
package pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	// ErrEnded is returned by operations on a call that has completed, was
	// aborted, or was cancelled. On a client, Result tells how it ended.
	ErrEnded = errors.New("pipe: call ended")
	// ErrPipeEnded is returned by a push after an empty chunk ended the pipe.
	ErrPipeEnded = errors.New("pipe: pipe already ended")
	// ErrPushPending is returned by PushAsync while an earlier push has not
	// yet completed: as in the seed, the next push waits for the
	// send-complete notification of the previous one.
	ErrPushPending = errors.New("pipe: a push is still in flight")
	// ErrInvalid is returned for bad arguments (a nil callback, an OK code
	// given to Abort).
	ErrInvalid = errors.New("pipe: invalid argument")
)

// Messages maps one RPC's request and response messages (Req and Resp, the
// generated message structs) to a pipe call with [in] parameters P, [in]
// elements I, [out] elements O and reply R. It is a pure codec: it builds
// and takes apart messages, and does no I/O.
type Messages[P, I, O, R, Req, Resp any] struct {
	// Request says what a request message carries: the parameters, or an
	// [in] chunk (KindNone if neither).
	Request func(*Req) (params P, chunk []I, kind Kind)
	// Response says what a response message carries: an [out] chunk, or
	// the reply (KindNone if neither).
	Response func(*Resp) (chunk []O, reply R, kind Kind)
	// Params, InChunk, OutChunk and Reply build the messages.
	Params   func(P) *Req
	InChunk  func([]I) *Req
	OutChunk func([]O) *Resp
	Reply    func(R) *Resp
}

// outbox serialises one side's sends: one message at a time, in the order
// they were pushed, either from the caller (Push) or from the outbox's own
// goroutine (PushAsync), which runs the send-complete notification.
type outbox[T any] struct {
	mu     sync.Mutex  // held while one message is being sent
	ended  bool        // guarded by mu: the call is over, nothing more is sent
	halted atomic.Bool // the call was aborted: no new send starts (set without mu)
	closed bool        // guarded by mu: an empty chunk ended the pipe
	send   func([]T) error
	async  chan asyncPush[T] // to the sender goroutine; nil until the first PushAsync
	quit   chan struct{}
}

type asyncPush[T any] struct {
	chunk []T
	done  func(error)
}

func newOutbox[T any](send func([]T) error) *outbox[T] {
	return &outbox[T]{send: send, quit: make(chan struct{})}
}

// push sends chunk, waiting for any push in flight first.
func (o *outbox[T]) push(chunk []T) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sendLocked(chunk)
}

func (o *outbox[T]) sendLocked(chunk []T) error {
	if o.ended || o.halted.Load() {
		return ErrEnded
	}
	if o.closed {
		return ErrPipeEnded
	}
	if len(chunk) == 0 {
		o.closed = true
	}
	return o.send(chunk)
}

// pushAsync hands chunk to the sender goroutine; done runs once, on that
// goroutine, after pushAsync has returned.
func (o *outbox[T]) pushAsync(chunk []T, done func(error)) error {
	if done == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	if !o.mu.TryLock() {
		return ErrPushPending
	}
	if o.ended || o.halted.Load() {
		o.mu.Unlock()
		return ErrEnded
	}
	if o.closed {
		o.mu.Unlock()
		return ErrPipeEnded
	}
	if o.async == nil {
		o.async = make(chan asyncPush[T], 1)
		go o.sender(o.async)
	}
	// The sender is idle (it releases mu before running a notification),
	// so this never blocks. mu passes to the sender, which unlocks it.
	o.async <- asyncPush[T]{chunk, done}
	return nil
}

func (o *outbox[T]) sender(q chan asyncPush[T]) {
	for {
		select {
		case p := <-q:
			err := o.sendLocked(p.chunk)
			o.mu.Unlock()
			p.done(err)
		case <-o.quit:
			return
		}
	}
}

// last sends the call's final message with f, then ends the outbox; it
// reports false, sending nothing, if the outbox had ended or halted.
func (o *outbox[T]) last(f func() error) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended || o.halted.Load() {
		return false, nil
	}
	err := f()
	o.endLocked()
	return true, err
}

// end waits for a send in flight, then ends the outbox: nothing more is
// sent, and the PushAsync goroutine exits.
func (o *outbox[T]) end() {
	o.mu.Lock()
	o.endLocked()
	o.mu.Unlock()
}

func (o *outbox[T]) endLocked() {
	if !o.ended {
		o.ended = true
		close(o.quit)
	}
}

// Call is the server side of one pipe call: the asynchronous handle of the
// seed. Its methods may be called from any goroutine; Pull from one at a
// time.
type Call[P, I, O, R any] struct {
	ctx    context.Context
	params P

	pullMu sync.Mutex
	seq    Requests
	inDone bool
	recv   func() ([]I, Kind, error)

	out   *outbox[O]
	reply func(R) error

	mu       sync.Mutex
	finished bool
	done     chan struct{} // closed when the call completes or aborts
	status   error         // how it ended: nil (completed) or a status error
}

// Context returns the call's context: it is cancelled when the client
// cancels the call, its deadline passes, or its connection goes away.
func (c *Call[P, I, O, R]) Context() context.Context { return c.ctx }

// Params returns the call's [in] parameters.
func (c *Call[P, I, O, R]) Params() P { return c.params }

// Pull returns the next chunk of the [in] pipe, waiting until one arrives.
// At the end of the pipe (an empty chunk, or the client half-closing) it
// returns nil and io.EOF, and goes on doing so. A message out of sequence or
// that cannot be decoded aborts the call and is returned; so is the status
// of a call that was cancelled.
func (c *Call[P, I, O, R]) Pull() ([]I, error) {
	c.pullMu.Lock()
	defer c.pullMu.Unlock()
	if c.inDone {
		return nil, io.EOF
	}
	chunk, kind, err := c.recv()
	if err == io.EOF {
		if _, err := c.seq.EOF(); err != nil {
			return nil, c.protocolFault(err)
		}
		c.inDone = true
		return nil, io.EOF
	}
	if err != nil {
		if cerr := c.ctx.Err(); cerr != nil {
			return nil, status.FromContextError(cerr).Err()
		}
		// A message grpc could not decode, too large, ...: the stream is
		// still up, so end the call here, telling the client why.
		c.abort(err)
		return nil, err
	}
	ev, err := c.seq.Next(kind, len(chunk))
	if err != nil {
		return nil, c.protocolFault(err)
	}
	if ev == EventEnd {
		c.inDone = true
		return nil, io.EOF
	}
	return chunk, nil
}

func (c *Call[P, I, O, R]) protocolFault(err error) error {
	c.abort(status.Error(codes.InvalidArgument, err.Error()))
	return err
}

// Push sends chunk on the [out] pipe and returns once flow control lets the
// next one go (grpc-go's SendMsg: the message is handed to the transport
// within the stream's window). An empty chunk ends the [out] pipe. Push
// waits for an asynchronous push still in flight, so chunks keep their
// order. The chunk may be reused once Push returns.
func (c *Call[P, I, O, R]) Push(chunk []O) error { return c.out.push(chunk) }

// PushAsync is the asynchronous Push: it returns at once, and done runs
// exactly once, later, on another goroutine, when the push completes: that
// is the send-complete notification, and the next push may be started from
// inside it. Only one push may be in flight: PushAsync returns
// ErrPushPending otherwise, and done does not run. chunk must not change
// until done runs.
func (c *Call[P, I, O, R]) PushAsync(chunk []O, done func(error)) error {
	return c.out.pushAsync(chunk, done)
}

// Complete ends the call with its [out] parameters: the client receives
// reply, then status OK. An [out] pipe not yet ended ends here. It waits
// for a push in flight, and returns ErrEnded if the call was already over.
func (c *Call[P, I, O, R]) Complete(reply R) error {
	ok, err := c.out.last(func() error { return c.reply(reply) })
	if !ok {
		return ErrEnded
	}
	c.finish(err)
	return err
}

// Abort ends the call with an error the client sees as the gRPC status code
// and message. codes.OK is not an abort: it returns ErrInvalid. Abort does
// not wait: pushes not yet started fail with ErrEnded. A push already in
// flight is not interrupted (grpc-go cannot fail a send but by ending the
// stream, and must not end it under a send): the status goes out once that
// push completes, when the client has read its way to it or gone away.
func (c *Call[P, I, O, R]) Abort(code codes.Code, msg string) error {
	if code == codes.OK {
		return fmt.Errorf("%w: abort with code OK", ErrInvalid)
	}
	if !c.abort(status.Error(code, msg)) {
		return ErrEnded
	}
	return nil
}

// abort records how the call ended, unless it already had, and stops new
// pushes; Serve sends the status once any push in flight is done.
func (c *Call[P, I, O, R]) abort(st error) bool {
	if !c.finish(st) {
		return false
	}
	c.out.halted.Store(true)
	return true
}

// finish records how the call ended; the first to end it wins.
func (c *Call[P, I, O, R]) finish(st error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return false
	}
	c.finished, c.status = true, st
	close(c.done)
	return true
}

// Handler serves pipe calls. It may return at once and finish the call
// from another goroutine, as the seed's manager routine does; the call
// stays open until Complete or Abort is called, or the client goes away.
type Handler[P, I, O, R any] func(*Call[P, I, O, R])

// Serve runs one pipe call on a gRPC bidirectional stream: it reads the
// call's parameters, hands the call to h, and returns once the call has
// completed or aborted, or its context ended. A generated service method
// is one line:
//
//	func (s *svc) IntPipe(st grpc.BidiStreamingServer[pb.IntPipeRequest, pb.IntPipeResponse]) error {
//		return pipe.Serve(st, intMessages, s.intPipe)
//	}
//
// A panic in h aborts the call with INTERNAL instead of crashing the
// server.
func Serve[P, I, O, R, Req, Resp any](st grpc.BidiStreamingServer[Req, Resp], m *Messages[P, I, O, R, Req, Resp], h Handler[P, I, O, R]) error {
	ctx := st.Context()
	c := &Call[P, I, O, R]{ctx: ctx, done: make(chan struct{})}
	c.recv = func() ([]I, Kind, error) {
		req, err := st.Recv()
		if err != nil {
			return nil, KindNone, err
		}
		_, chunk, kind := m.Request(req)
		return chunk, kind, nil
	}
	c.out = newOutbox(func(chunk []O) error { return st.Send(m.OutChunk(chunk)) })
	c.reply = func(r R) error { return st.Send(m.Reply(r)) }

	// The parameters come first.
	req, err := st.Recv()
	if err == io.EOF {
		_, err = c.seq.EOF()
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if err != nil {
		return err
	}
	params, _, kind := m.Request(req)
	if _, err := c.seq.Next(kind, 0); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	c.params = params

	if err := runHandler(h, c); err != nil {
		c.abort(status.Error(codes.Internal, err.Error()))
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		// The client went away or cancelled.
		c.abort(status.FromContextError(ctx.Err()).Err())
	}
	// Nothing may be sent once this returns: wait out a push in flight
	// (after an abort, until the client reads it or goes away) and end
	// the outbox.
	c.out.end()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func runHandler[P, I, O, R any](h Handler[P, I, O, R], c *Call[P, I, O, R]) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pipe handler panicked: %v", r)
		}
	}()
	h(c)
	return nil
}

// ClientCall is the client side of one pipe call. Push (or PushAsync) and
// Pull may run on different goroutines at once; Pull and Result on one at a
// time. Always end a ClientCall with Result or Cancel, which release it.
type ClientCall[P, I, O, R any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	out    *outbox[I] // the [in] pipe, seen from here
	recv   func() ([]O, R, Kind, error)

	pullMu  sync.Mutex
	seq     Responses
	outDone bool
	replied bool
	reply   R
	err     error // how the call ended, once known
}

// Start begins a pipe call: open is the generated client method (for
// example pb.NewPipesClient(cc).IntPipe), and params are sent at once.
// Cancelling ctx, or calling Cancel, cancels the call; the server's handler
// sees its context cancelled.
func Start[P, I, O, R, Req, Resp any](ctx context.Context, open func(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error), m *Messages[P, I, O, R, Req, Resp], params P, opts ...grpc.CallOption) (*ClientCall[P, I, O, R], error) {
	ctx, cancel := context.WithCancel(ctx)
	st, err := open(ctx, opts...)
	if err != nil {
		cancel()
		return nil, err
	}
	c := &ClientCall[P, I, O, R]{ctx: ctx, cancel: cancel}
	c.out = newOutbox(func(chunk []I) error {
		err := st.Send(m.InChunk(chunk))
		if err == nil && len(chunk) == 0 {
			err = st.CloseSend()
		}
		if err == io.EOF {
			// The server ended the call; Result says how.
			return ErrEnded
		}
		return err
	})
	c.recv = func() ([]O, R, Kind, error) {
		resp, err := st.Recv()
		if err != nil {
			var zero R
			return nil, zero, KindNone, err
		}
		chunk, reply, kind := m.Response(resp)
		return chunk, reply, kind, nil
	}
	if err := st.Send(m.Params(params)); err != nil && err != io.EOF {
		cancel()
		return nil, err
	}
	return c, nil
}

// Context returns the call's context.
func (c *ClientCall[P, I, O, R]) Context() context.Context { return c.ctx }

// Push sends chunk on the [in] pipe and returns once flow control lets the
// next one go. An empty chunk ends the [in] pipe (and half-closes the
// stream). If the server has already ended the call, Push returns ErrEnded
// and Result tells how the call ended.
func (c *ClientCall[P, I, O, R]) Push(chunk []I) error { return c.out.push(chunk) }

// PushAsync is the asynchronous Push; see Call.PushAsync.
func (c *ClientCall[P, I, O, R]) PushAsync(chunk []I, done func(error)) error {
	return c.out.pushAsync(chunk, done)
}

// Pull returns the next chunk of the [out] pipe, waiting until one arrives.
// At the end of the pipe (an empty chunk or the reply) it returns nil and
// io.EOF. If the call was aborted or cancelled, it returns the status error
// (status.Code tells the code).
func (c *ClientCall[P, I, O, R]) Pull() ([]O, error) {
	c.pullMu.Lock()
	defer c.pullMu.Unlock()
	return c.pullLocked()
}

func (c *ClientCall[P, I, O, R]) pullLocked() ([]O, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.outDone {
		return nil, io.EOF
	}
	chunk, ev, err := c.nextLocked()
	switch {
	case err != nil:
		return nil, err
	case ev == EventChunk:
		return chunk, nil
	}
	c.outDone = true // an empty chunk or the reply
	return nil, io.EOF
}

// nextLocked reads and checks the next response; a failure ends the call.
func (c *ClientCall[P, I, O, R]) nextLocked() ([]O, Event, error) {
	chunk, reply, kind, err := c.recv()
	if err == io.EOF {
		err = c.seq.EOF()
		if err != nil {
			err = status.Error(codes.Internal, err.Error())
		}
	}
	if err != nil {
		c.fail(err)
		return nil, 0, err
	}
	ev, err := c.seq.Next(kind, len(chunk))
	if err != nil {
		err = status.Error(codes.Internal, err.Error())
		c.fail(err)
		return nil, 0, err
	}
	if ev == EventReply {
		c.reply, c.replied = reply, true
	}
	return chunk, ev, nil
}

func (c *ClientCall[P, I, O, R]) fail(err error) {
	c.err = err
	c.release()
}

// release cancels the stream and ends the outbox: a push in flight fails
// with the cancellation, and the PushAsync goroutine exits.
func (c *ClientCall[P, I, O, R]) release() {
	c.cancel()
	c.out.end()
}

// Result waits for the end of the call and returns its reply, or the
// error it ended with: the server's abort as a gRPC status, a cancellation,
// a broken connection. [out] chunks not yet pulled are discarded. Result
// releases the call.
func (c *ClientCall[P, I, O, R]) Result() (R, error) {
	c.pullMu.Lock()
	defer c.pullMu.Unlock()
	var zero R
	for c.err == nil && !c.replied {
		if _, _, err := c.nextLocked(); err != nil {
			return zero, err
		}
	}
	if c.err != nil {
		return zero, c.err
	}
	// After the reply, the stream must end with status OK.
	if _, _, _, err := c.recv(); err != io.EOF {
		if err == nil {
			err = status.Error(codes.Internal, (&ProtocolError{Fault: "a message after the reply"}).Error())
		}
		c.fail(err)
		return zero, err
	}
	c.err = ErrEnded
	c.release()
	return c.reply, nil
}

// Cancel cancels the call: the server's handler sees its context
// cancelled. It is safe to call at any time, more than once.
func (c *ClientCall[P, I, O, R]) Cancel() { c.release() }
