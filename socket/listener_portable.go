//go:build !linux || overlap_portable

// The portable listener and dialer, on Go's net package: one goroutine
// accepts while accepts are pending; results are delivered on the loop.

package socket

import (
	"net"
	"sync"

	"github.com/overlap-go/overlap/engine"
)

// Listener accepts connections asynchronously (seed 003's AcceptEx).
type Listener struct {
	mu        sync.Mutex
	cond      sync.Cond
	eng       *engine.Engine
	loop      *engine.Loop
	opts      *Options
	ln        net.Listener
	addr      net.Addr
	pending   []acceptOp
	done      []acceptOp
	scheduled bool
	closed    bool
	closing   chan struct{}
	exited    bool
}

// Listen binds a TCP listener on addr ("host:port"; port 0 picks one).
// Accepted sockets get opts (nil for defaults). A failure says which address
// and why: errors.Is(err, syscall.EADDRINUSE) works.
func Listen(e *engine.Engine, addr string, opts *Options) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err // already a *net.OpError naming the address
	}
	if err := e.Acquire(); err != nil {
		ln.Close()
		return nil, err
	}
	if opts == nil {
		opts = &defaultOptions
	}
	l := &Listener{eng: e, loop: e.Next(), opts: opts, ln: ln, addr: ln.Addr()}
	l.cond.L = &l.mu
	go l.acceptor()
	return l, nil
}

func (l *Listener) acceptor() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.closed {
		if len(l.pending) == 0 {
			l.cond.Wait()
			continue
		}
		l.mu.Unlock()
		c, err := l.ln.Accept()
		l.mu.Lock()
		if l.closed {
			if c != nil {
				c.Close()
			}
			break
		}
		op := l.pending[0]
		l.pending = l.pending[1:]
		if err != nil {
			op.err = err
		} else {
			s := New(l.eng, l.opts)
			if err := s.openConn(c); err != nil {
				c.Close()
				op.err = err
			} else {
				op.s = s
			}
		}
		l.done = append(l.done, op)
		l.requestRunLocked()
	}
	l.exited = true
	l.requestRunLocked()
}

func (l *Listener) requestRunLocked() {
	l.cond.Signal()
	if !l.scheduled {
		l.scheduled = true
		l.loop.Schedule(l)
	}
}

// RunTask runs accept callbacks on the listener's loop. It implements
// engine.Task.
func (l *Listener) RunTask() {
	l.mu.Lock()
	if l.closed && l.exited {
		for _, op := range l.pending {
			op.err = errClosedAbandon
			l.done = append(l.done, op)
		}
		l.pending = nil
	}
	done := l.done
	l.done = nil
	l.mu.Unlock()
	for _, op := range done {
		op.cb(op.s, op.err)
	}
	l.mu.Lock()
	l.scheduled = false
	if len(l.done) > 0 {
		l.requestRunLocked()
	} else if l.closed && l.exited && l.closing != nil {
		close(l.closing)
		l.closing = nil
		l.eng.Release()
	}
	l.mu.Unlock()
}

// Close stops listening. Pending accepts complete with ErrAbandoned. It is
// idempotent; called from outside the engine it waits until no accept
// callback runs.
func (l *Listener) Close() error {
	l.mu.Lock()
	var ch chan struct{}
	if !l.closed {
		l.closed = true
		l.closing = make(chan struct{})
		ch = l.closing
		l.ln.Close()
		l.cond.Broadcast()
	}
	l.mu.Unlock()
	if ch != nil && !l.eng.OnEngineGoroutine() {
		<-ch
	}
	return nil
}

// DialFunc receives a connected, open socket, or the error of the connect.
type DialFunc func(s *Socket, err error)

// Dial connects to addr ("host:port") asynchronously; cb runs exactly once,
// on a loop, after Dial has returned.
func Dial(e *engine.Engine, addr string, opts *Options, cb DialFunc) error {
	if cb == nil {
		return ErrInvalid
	}
	if err := e.Acquire(); err != nil {
		return err
	}
	d := &dialTask{eng: e, cb: cb}
	go func() {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			s := New(e, opts)
			if err = s.openConn(c); err != nil {
				c.Close()
			} else {
				d.s = s
			}
		}
		d.err = err
		e.Next().Schedule(d)
	}()
	return nil
}

type dialTask struct {
	eng *engine.Engine
	cb  DialFunc
	s   *Socket
	err error
}

func (d *dialTask) RunTask() {
	d.eng.Release()
	d.cb(d.s, d.err)
}
