// Package socket is overlap's completion-based asynchronous socket: the
// c-pal async_socket contract (see CONTRACT.md at the project root's
// ../shared, and docs/ARCHITECTURE.md) on overlap's engine.
//
// Every operation validates its arguments and the socket's state first and
// fails synchronously, with no callback, when either is wrong. Once accepted,
// its callback runs exactly once, later, on the socket's loop (or a worker):
// never inside the call that started it, never concurrently with another
// callback of the same socket, and in the order the operations complete
// (sends in issue order, receives in issue order).
package socket

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/overlap-go/overlap/engine"
)

// MaxIOSize bounds the total length of the buffers of one operation.
const MaxIOSize = math.MaxInt32

// DefaultMaxQueuedSend is the default cap on bytes a socket holds in sends
// that the kernel has not yet taken.
const DefaultMaxQueuedSend = 4 << 20

var (
	// ErrAbandoned completes operations still pending when the socket
	// closes, and receives pending at end of stream or reset. Test with
	// errors.Is; the cause (io.EOF, ECONNRESET) is wrapped when known.
	ErrAbandoned = errors.New("socket: operation abandoned")
	// ErrNotOpen is returned synchronously when the socket is not open, or
	// when its peer has reset it.
	ErrNotOpen = errors.New("socket: not open")
	// ErrInvalid is returned synchronously for bad arguments.
	ErrInvalid = errors.New("socket: invalid argument")
	// ErrReopen is returned by Open on a socket that was opened before: the
	// socket owned, and closed, its connection.
	ErrReopen = errors.New("socket: cannot reopen a socket after Close")
	// ErrSendQueueFull is returned synchronously by Send when the bytes
	// queued but not yet written would pass Options.MaxQueuedSend. Nothing is
	// sent and no callback runs; wait for an earlier send to complete.
	ErrSendQueueFull = errors.New("socket: send queue full")
	// ErrTimeout completes a receive that waited Options.IdleTimeout without
	// data. The socket stays open.
	ErrTimeout = errors.New("socket: idle timeout")
)

// abandoned is an ErrAbandoned with a cause.
type abandoned struct{ cause error }

func (a *abandoned) Error() string {
	if a.cause == nil {
		return ErrAbandoned.Error()
	}
	return ErrAbandoned.Error() + ": " + a.cause.Error()
}
func (a *abandoned) Is(target error) bool { return target == ErrAbandoned }
func (a *abandoned) Unwrap() error        { return a.cause }

var (
	errClosedAbandon = &abandoned{}
	errEOFAbandon    = &abandoned{cause: io.EOF}
)

// IOKind selects the readiness NotifyIO waits for.
type IOKind uint8

const (
	// Readable: data (or end of stream) is waiting.
	Readable IOKind = iota + 1
	// Writable: a send would not block.
	Writable
)

// State is a socket's lifecycle state.
type State uint8

// The states of a socket: Closed -> Opening -> Open -> Closing -> Closed.
const (
	Closed State = iota
	Opening
	Open
	Closing
)

func (st State) String() string {
	return [...]string{"Closed", "Opening", "Open", "Closing"}[st]
}

// Options tunes a socket. The zero value is valid.
type Options struct {
	// NoDelay disables Nagle's algorithm unless set to false explicitly via
	// DelayOn; overlap defaults to TCP_NODELAY like Go's net.
	DelayOn bool
	// KeepAlive enables TCP keep-alive with this idle period (0 = off).
	KeepAlive time.Duration
	// IdleTimeout completes a pending receive with ErrTimeout after this
	// long without data (0 = never).
	IdleTimeout time.Duration
	// MaxQueuedSend caps bytes held in unsent sends; 0 means
	// DefaultMaxQueuedSend, negative means no cap.
	MaxQueuedSend int
	// Transport, when set, replaces the socket's own send and receive
	// system calls (c-pal's create_with_transport). Readiness still comes
	// from the engine.
	Transport Transport
}

// Transport supplies a socket's raw I/O, with system-call semantics: return
// an error that is syscall.EAGAIN (errors.Is) when the call would block; a
// Recv of 0 bytes and no error is end of stream.
type Transport interface {
	Send(p []byte) (int, error)
	Recv(p []byte) (int, error)
}

// Callbacks. A ReceiveLentFunc's p is lent by the engine and valid only
// until the callback returns; it may be passed to Send from inside the
// callback (whatever is not written at once is copied).
type (
	SendFunc        func(err error)
	ReceiveFunc     func(n int, err error)
	ReceiveLentFunc func(p []byte, err error)
	NotifyFunc      func(err error)
	OpenFunc        func(err error)
)

type opKind uint8

const (
	opSend opKind = iota + 1
	opRecv
	opRecvLent
	opNotify
)

// op is one pending or completed operation. Ops are recycled per socket.
type op struct {
	next   *op
	kind   opKind
	notify IOKind
	bufs   [][]byte
	idx    int // send progress: buffer index and offset within it
	off    int
	total  int
	n      int
	err    error
	lent   []byte // receive-lent data (a slice of a lent buffer)
	pooled *[]byte
	owned  bool // bufs were copied into memory the socket owns
	send   SendFunc
	recv   ReceiveFunc
	recvL  ReceiveLentFunc
	note   NotifyFunc
}

type opList struct{ head, tail *op }

func (q *opList) push(o *op) {
	o.next = nil
	if q.tail == nil {
		q.head = o
	} else {
		q.tail.next = o
	}
	q.tail = o
}

func (q *opList) pop() *op {
	o := q.head
	if o != nil {
		q.head = o.next
		if q.head == nil {
			q.tail = nil
		}
		o.next = nil
	}
	return o
}

func (q *opList) pushFront(o *op) {
	o.next = q.head
	q.head = o
	if q.tail == nil {
		q.tail = o
	}
}

// moveAll completes every op of q with err, appending them to done.
func (q *opList) moveAll(done *opList, err error) {
	for o := q.pop(); o != nil; o = q.pop() {
		o.n = 0
		o.err = err
		done.push(o)
	}
}

// Socket is one connected stream socket. Create it with New and Open it, or
// get it open from a Listener or Dial.
type Socket struct {
	// Fields are packed and rare ones moved to ext: a socket is most of
	// what an idle connection costs (docs/BENCHMARKS.md, idle memory).
	mu        sync.Mutex
	state     State
	used      bool  // opened once: cannot reopen
	scheduled bool  // queued on, or running on, its loop
	cbActive  bool  // worker mode: callbacks queued or running on a worker
	queued    int32 // bytes held by sendq
	eng       *engine.Engine
	loop      *engine.Loop
	recvq     opList
	sendq     opList
	notq      opList
	done      opList
	lentWait  ReceiveLentFunc // a lent receive waiting with no op allocated (see ReceiveLent)
	lentNow   *op             // the lent receive whose callback is running
	onClosed  func(*Socket)
	opts      *Options
	ext       *socketExt // allocated on first use
	sys                  // backend state
}

// socketExt holds what few sockets need, allocated when first needed.
type socketExt struct {
	closeCh chan struct{} // closed when Close completes, for waiters
	idle    *idleTimer
}

func (s *Socket) extLocked() *socketExt {
	if s.ext == nil {
		s.ext = new(socketExt)
	}
	return s.ext
}

// maxQueued returns the send queue cap in bytes, or 0 for none.
func (s *Socket) maxQueued() int {
	switch m := s.opts.MaxQueuedSend; {
	case m == 0:
		return DefaultMaxQueuedSend
	case m < 0:
		return 0
	default:
		return m
	}
}

// New returns a closed socket bound to an engine. opts may be nil.
func New(e *engine.Engine, opts *Options) *Socket {
	if opts == nil {
		opts = &defaultOptions
	}
	return &Socket{eng: e, opts: opts}
}

var defaultOptions Options

// State returns the socket's current state.
func (s *Socket) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Engine returns the engine the socket runs on.
func (s *Socket) Engine() *engine.Engine { return s.eng }

// SetOnClosed sets f to run once, with the socket, after it has fully
// closed and its last callback has returned. Set it before Close. Taking the
// socket as argument lets one function serve many sockets with no closure
// per socket.
func (s *Socket) SetOnClosed(f func(*Socket)) {
	s.mu.Lock()
	s.onClosed = f
	s.mu.Unlock()
}

// Ops come from one pool for the process rather than a free list per
// socket, so an idle socket holds none.
var opPool = sync.Pool{New: func() any { return new(op) }}

func (s *Socket) newOpLocked(k opKind) *op {
	o := opPool.Get().(*op)
	o.kind = k
	return o
}

func (s *Socket) freeOpLocked(o *op) {
	*o = op{}
	opPool.Put(o)
}

func validBufs(bufs [][]byte) (int, error) {
	if len(bufs) == 0 {
		return 0, fmt.Errorf("%w: no buffers", ErrInvalid)
	}
	total := 0
	for i, b := range bufs {
		if len(b) == 0 {
			return 0, fmt.Errorf("%w: buffer %d is empty", ErrInvalid, i)
		}
		total += len(b)
		if total > MaxIOSize {
			return 0, fmt.Errorf("%w: total length over %d", ErrInvalid, MaxIOSize)
		}
	}
	return total, nil
}

func notOpen(st State) error {
	return fmt.Errorf("%w (state %v)", ErrNotOpen, st)
}

// Send writes every byte of bufs, in order, with one vectored write where
// possible, then calls cb with nil. The buffers must not change until cb
// runs. Sends complete in the order they were issued and never interleave.
// A peer reset seen at once gives ErrNotOpen synchronously; a later I/O
// error completes cb with it; a send pending at Close completes with
// ErrAbandoned.
func (s *Socket) Send(bufs [][]byte, cb SendFunc) error {
	if cb == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	total, err := validBufs(bufs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	if err := s.sendBlockedLocked(); err != nil {
		return err
	}
	if m := s.maxQueued(); m > 0 && s.queued > 0 && int(s.queued)+total > m {
		return ErrSendQueueFull
	}
	o := s.newOpLocked(opSend)
	o.bufs, o.total, o.send = bufs, total, cb
	if s.sendq.head == nil {
		// Nothing queued: try to write at once, so a send from a callback
		// usually costs one system call and no loop turn.
		if err := s.trySendLocked(o); err != nil {
			s.freeOpLocked(o)
			return err
		}
		if o.idx == len(o.bufs) {
			s.done.push(o)
			s.requestRunLocked()
			return nil
		}
	}
	s.ownLentLocked(o)
	s.queued += int32(o.total - s.sentBytes(o))
	s.sendq.push(o)
	s.requestRunLocked()
	return nil
}

// sentBytes returns how many bytes of o are written.
func (s *Socket) sentBytes(o *op) int {
	n := o.off
	for i := 0; i < o.idx; i++ {
		n += len(o.bufs[i])
	}
	return n
}

// ownLentLocked copies the unsent part of o into memory the socket owns when
// it points into the lent buffer of the running callback.
func (s *Socket) ownLentLocked(o *op) {
	if s.lentNow == nil || o.owned {
		return
	}
	lent := s.lentNow.lent
	if s.lentNow.pooled != nil {
		lent = *s.lentNow.pooled
	} else if s.loop != nil && !s.eng.HasWorkers() {
		lent = s.loop.Lent()
	}
	alias := false
	for _, b := range o.bufs[o.idx:] {
		if overlaps(b, lent) {
			alias = true
			break
		}
	}
	if !alias {
		return
	}
	rest := make([]byte, 0, o.total-s.sentBytes(o))
	for i := o.idx; i < len(o.bufs); i++ {
		b := o.bufs[i]
		if i == o.idx {
			b = b[o.off:]
		}
		rest = append(rest, b...)
	}
	o.bufs, o.idx, o.off, o.owned = [][]byte{rest}, 0, 0, true
	o.total = len(rest) // progress is reset, so total is what remains
}

// Receive reads into bufs, filling them in order, and calls cb with the
// number of bytes (n > 0). At end of stream or on a reset, after every byte
// that arrived before it has been delivered, cb gets 0 and ErrAbandoned.
// Receives are served in the order they were issued.
func (s *Socket) Receive(bufs [][]byte, cb ReceiveFunc) error {
	if cb == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	total, err := validBufs(bufs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	o := s.newOpLocked(opRecv)
	o.bufs, o.total, o.recv = bufs, total, cb
	s.queueRecvLocked(o)
	return nil
}

// ReceiveLent is Receive into a buffer the engine lends for the duration of
// cb: an idle socket waiting for data holds no buffer at all.
func (s *Socket) ReceiveLent(cb ReceiveLentFunc) error {
	if cb == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	if s.recvq.head == nil && s.lentWait == nil {
		// The common case, one receive at a time: keep just the callback.
		// An op is taken only when data arrives, so an idle connection
		// waiting for its next message costs no op.
		s.lentWait = cb
		s.afterRecvQueuedLocked()
		return nil
	}
	o := s.newOpLocked(opRecvLent)
	o.recvL = cb
	s.queueRecvLocked(o)
	return nil
}

// hasRecvLocked reports whether any receive is pending.
func (s *Socket) hasRecvLocked() bool { return s.recvq.head != nil || s.lentWait != nil }

// materializeLocked turns a waiting lent receive into an op at the head of
// the receive queue, where it belongs in FIFO order.
func (s *Socket) materializeLocked() {
	if s.lentWait == nil {
		return
	}
	o := s.newOpLocked(opRecvLent)
	o.recvL = s.lentWait
	s.lentWait = nil
	s.recvq.pushFront(o)
}

// dematerializeLocked undoes materializeLocked when the lent receive it
// made is all that waits: the socket goes back to holding no op.
func (s *Socket) dematerializeLocked() {
	o := s.recvq.head
	if o == nil || o != s.recvq.tail || o.kind != opRecvLent || s.lentWait != nil {
		return
	}
	s.recvq.pop()
	s.lentWait = o.recvL
	s.freeOpLocked(o)
}

func (s *Socket) queueRecvLocked(o *op) {
	s.materializeLocked()
	s.recvq.push(o)
	s.afterRecvQueuedLocked()
}

func (s *Socket) afterRecvQueuedLocked() {
	if s.opts.IdleTimeout > 0 {
		s.armIdleLocked()
	}
	s.requestRunLocked()
}

// NotifyIO calls cb once the socket is readable or writable (one-shot).
// Pending notifications complete with ErrAbandoned at Close.
func (s *Socket) NotifyIO(kind IOKind, cb NotifyFunc) error {
	if cb == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	if kind != Readable && kind != Writable {
		return fmt.Errorf("%w: IOKind %d", ErrInvalid, kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	o := s.newOpLocked(opNotify)
	o.notify, o.note = kind, cb
	s.notq.push(o)
	s.requestRunLocked()
	return nil
}

// Close closes the socket. Every pending operation completes exactly once
// with ErrAbandoned. Close is idempotent and may be called from any
// goroutine, including a completion callback. Called from outside the
// engine, it returns only when no callback of the socket is running or will
// run; called from inside a callback (any engine goroutine), it returns at
// once and the remaining completions run after the callback returns.
func (s *Socket) Close() {
	s.mu.Lock()
	switch s.state {
	case Opening, Open:
		s.state = Closing
		s.abandonAllLocked()
		s.interruptLocked()
		s.requestRunLocked()
	case Closed:
		s.used = true
		s.mu.Unlock()
		return
	}
	if s.state == Closed || s.eng.OnEngineGoroutine() {
		s.mu.Unlock()
		return
	}
	x := s.extLocked()
	if x.closeCh == nil {
		x.closeCh = make(chan struct{})
	}
	ch := x.closeCh
	s.mu.Unlock()
	<-ch
}

func (s *Socket) abandonAllLocked() {
	s.materializeLocked()
	s.recvq.moveAll(&s.done, errClosedAbandon)
	s.sendq.moveAll(&s.done, errClosedAbandon)
	s.notq.moveAll(&s.done, errClosedAbandon)
	s.queued = 0
	if s.ext != nil && s.ext.idle != nil {
		s.ext.idle.t.Stop()
		s.ext.idle.armed = false
	}
}

// requestRunLocked makes sure the loop will pump I/O and run completions.
func (s *Socket) requestRunLocked() {
	if !s.scheduled {
		s.scheduled = true
		s.loop.Schedule(s)
	}
}

// runBudget bounds the completions one socket runs per loop turn, so a busy
// socket cannot starve the others on its loop.
const runBudget = 64

// RunTask runs on the socket's loop: it moves I/O forward and, unless the
// engine has workers, runs completions. It implements engine.Task.
func (s *Socket) RunTask() {
	s.mu.Lock()
	s.runLocked()
}

// runLocked is RunTask with s.mu held; it unlocks.
func (s *Socket) runLocked() {
	if s.eng.HasWorkers() {
		s.runIOForWorkersLocked()
		return
	}
	for i := 0; ; i++ {
		if s.done.head == nil && s.state == Open {
			s.pumpLocked()
		}
		o := s.done.pop()
		if o == nil {
			break
		}
		if i == runBudget {
			s.done.pushFront(o)
			s.loop.Schedule(s) // stays scheduled; run again next turn
			s.mu.Unlock()
			return
		}
		if o.kind == opRecvLent {
			s.lentNow = o
		}
		s.mu.Unlock()
		complete(o)
		s.mu.Lock()
		s.lentNow = nil
		s.releaseOpLocked(o)
	}
	s.scheduled = false
	s.finishIfClosingLocked() // unlocks
}

// finishIfClosingLocked tears the socket down once it is closing and has no
// completion left; it always unlocks s.mu.
func (s *Socket) finishIfClosingLocked() {
	if s.state != Closing || s.done.head != nil || s.cbActive || s.scheduled || s.busyLocked() {
		s.mu.Unlock()
		return
	}
	s.closeSysLocked()
	s.state = Closed
	s.used = true
	if s.ext != nil && s.ext.closeCh != nil {
		close(s.ext.closeCh)
	}
	f := s.onClosed
	s.onClosed = nil
	s.mu.Unlock()
	s.eng.Release()
	if f != nil {
		f(s)
	}
}

func (s *Socket) releaseOpLocked(o *op) {
	if o.pooled != nil {
		lentPool.Put(o.pooled)
	}
	s.freeOpLocked(o)
}

// complete runs an op's callback.
func complete(o *op) {
	switch o.kind {
	case opSend:
		o.send(o.err)
	case opRecv:
		o.recv(o.n, o.err)
	case opRecvLent:
		o.recvL(o.lent, o.err)
	case opNotify:
		o.note(o.err)
	}
}

// Worker mode: the loop does the I/O, a worker runs the callbacks.

// callbackTask is the Socket seen as the worker's task: a conversion, not
// a field, so it costs no memory per socket.
type callbackTask Socket

func (c *callbackTask) RunTask() { (*Socket)(c).runCallbacks() }

var lentPool sync.Pool // *[]byte of the engine's lent size, for worker mode

func (s *Socket) lentBuffer(o *op) []byte {
	if !s.eng.HasWorkers() {
		return s.loop.Lent()
	}
	p, _ := lentPool.Get().(*[]byte)
	if p == nil || len(*p) != s.eng.LentBufferSize() {
		b := make([]byte, s.eng.LentBufferSize())
		p = &b
	}
	o.pooled = p
	return *p
}

func (s *Socket) runIOForWorkersLocked() {
	if s.state == Open {
		s.pumpLocked()
	}
	s.scheduled = false
	if s.done.head != nil && !s.cbActive {
		s.cbActive = true
		s.eng.Dispatch((*callbackTask)(s))
	}
	s.finishIfClosingLocked()
}

func (s *Socket) runCallbacks() {
	s.mu.Lock()
	for {
		o := s.done.pop()
		if o == nil {
			break
		}
		if o.kind == opRecvLent {
			s.lentNow = o
		}
		s.mu.Unlock()
		complete(o)
		s.mu.Lock()
		s.lentNow = nil
		s.releaseOpLocked(o)
	}
	s.cbActive = false
	if s.state == Closing {
		// Teardown touches the descriptor: do it on the loop.
		s.requestRunLocked()
	}
	s.mu.Unlock()
}

// completeOpLocked moves a finished op to done.
func (s *Socket) completeOpLocked(o *op, n int, err error) {
	o.n, o.err = n, err
	s.done.push(o)
}

// idle timeouts

type idleTimer struct {
	t     *engine.Timer
	last  time.Time
	armed bool
}

// armIdleLocked starts the idle clock for a newly queued receive, unless it
// is already running.
func (s *Socket) armIdleLocked() {
	x := s.extLocked()
	if x.idle == nil {
		x.idle = &idleTimer{}
		x.idle.t = s.loop.NewTimer(s.onIdle)
	}
	if !x.idle.armed {
		x.idle.armed = true
		x.idle.last = time.Now()
		x.idle.t.Reset(s.opts.IdleTimeout)
	}
}

// touchIdleLocked records that data arrived; the timer is re-armed lazily
// when it fires, so this costs no timer operation per message.
func (s *Socket) touchIdleLocked() {
	if s.ext != nil && s.ext.idle != nil {
		s.ext.idle.last = time.Now()
	}
}

func (s *Socket) onIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.ext.idle
	it.armed = false
	if s.state != Open || !s.hasRecvLocked() {
		return
	}
	if rest := s.opts.IdleTimeout - time.Since(it.last); rest > 0 {
		it.armed = true
		it.t.Reset(rest)
		return
	}
	s.materializeLocked()
	s.recvq.moveAll(&s.done, ErrTimeout)
	s.requestRunLocked()
}

// overlaps reports whether a and b share memory.
func overlaps(a, b []byte) bool {
	if len(a) == 0 || cap(b) == 0 {
		return false
	}
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(cap(b)) && b0 < a0+uintptr(len(a))
}

// LoopID returns the index of the loop the socket runs on, or -1 before
// Open.
func (s *Socket) LoopID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loop == nil {
		return -1
	}
	return s.loop.ID()
}
