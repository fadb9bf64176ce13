// What a Listener is, on every backend: a queue of asynchronous accepts.

package socket

import (
	"errors"
	"fmt"
	"net"
)

// AcceptFunc receives an accepted, open socket, or an error. A listener
// closed under a pending accept gives ErrAbandoned.
type AcceptFunc func(s *Socket, err error)

// ErrListenerClosed is returned by Accept on a closed listener.
var ErrListenerClosed = errors.New("socket: listener closed")

type acceptOp struct {
	cb  AcceptFunc
	s   *Socket
	err error
}

// Accept queues an asynchronous accept; any number may be pending, and they
// complete in order, each exactly once, on the listener's loop. Accepted
// sockets are spread over the engine's loops.
func (l *Listener) Accept(cb AcceptFunc) error {
	if cb == nil {
		return fmt.Errorf("%w: nil callback", ErrInvalid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrListenerClosed
	}
	l.pending = append(l.pending, acceptOp{cb: cb})
	l.requestRunLocked()
	return nil
}

// Addr returns the address the listener is bound to (with the actual port
// when port 0 was asked for).
func (l *Listener) Addr() net.Addr { return l.addr }

// listenError builds the error of a failed listen: which address and why,
// with the cause testable by errors.Is (syscall.EADDRINUSE, ...).
func listenError(addr string, err error) error {
	return &net.OpError{Op: "listen", Net: "tcp", Addr: staticAddr(addr), Err: err}
}

type staticAddr string

func (a staticAddr) Network() string { return "tcp" }
func (a staticAddr) String() string  { return string(a) }
