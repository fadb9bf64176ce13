// The net.Listener side: accepts kept posted on an overlap listener, handed
// to Accept through a channel.

package netconn

import (
	"errors"
	"net"
	"sync"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// acceptsPosted is how many accepts a Listener keeps pending: accepted
// connections wait in a channel of that size, so an accept callback never
// blocks its loop.
const acceptsPosted = 16

// Listener is a net.Listener over an overlap socket listener.
type Listener struct {
	ln       *socket.Listener
	accepted chan acceptResult
	onAccept socket.AcceptFunc
	closed   chan struct{}
	once     sync.Once
}

type acceptResult struct {
	s   *socket.Socket
	err error
}

// Listen listens on addr ("host:port"; port 0 picks one) on engine e;
// accepted sockets get opts (nil for defaults). Errors are *net.OpError
// naming the address, as socket.Listen's.
func Listen(e *engine.Engine, addr string, opts *socket.Options) (*Listener, error) {
	ln, err := socket.Listen(e, addr, opts)
	if err != nil {
		return nil, err
	}
	l := &Listener{ln: ln, accepted: make(chan acceptResult, acceptsPosted), closed: make(chan struct{})}
	l.onAccept = l.completed
	for range acceptsPosted {
		if err := ln.Accept(l.onAccept); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Listener) completed(s *socket.Socket, err error) {
	if errors.Is(err, socket.ErrAbandoned) {
		return // the listener closed
	}
	l.accepted <- acceptResult{s, err}
}

// Accept waits for the next connection. Errors such as running out of
// descriptors are temporary (net/http and grpc-go back off and retry); a
// closed listener gives net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case r := <-l.accepted:
		l.ln.Accept(l.onAccept) // fails only once closed
		if r.err != nil {
			return nil, temporary{r.err}
		}
		return New(r.s), nil
	case <-l.closed:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.ln.Addr(), Err: net.ErrClosed}
	}
}

// temporary marks an accept error as worth retrying.
type temporary struct{ error }

func (t temporary) Temporary() bool { return true }
func (t temporary) Timeout() bool   { return false }
func (t temporary) Unwrap() error   { return t.error }

// Close stops listening; connections accepted but not yet returned by
// Accept are closed. Connections already returned stay open.
func (l *Listener) Close() error {
	first := false
	l.once.Do(func() {
		first = true
		close(l.closed)
		l.ln.Close() // waits for accept callbacks
		for {
			select {
			case r := <-l.accepted:
				if r.s != nil {
					r.s.Close()
				}
			default:
				return
			}
		}
	})
	if !first {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.ln.Addr(), Err: net.ErrClosed}
	}
	return nil
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }
