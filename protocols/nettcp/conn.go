// The blocking byte stream a Channel reads and writes, on overlap's
// completion-based socket: each Read is one Receive into the caller's
// buffer, each Write one Send, and the calling goroutine waits for the
// completion. The engine does all the socket I/O; the channel's goroutine
// only waits.

package nettcp

import (
	"errors"
	"io"
	"net"

	"github.com/overlap-go/overlap/socket"
)

type ioResult struct {
	n   int
	err error
}

// sockConn adapts a *socket.Socket to io.ReadWriteCloser for one goroutine
// at a time per direction. It allocates nothing per call.
type sockConn struct {
	s      *socket.Socket
	rb, wb [1][]byte
	rdone  chan ioResult
	wdone  chan error
	onRecv socket.ReceiveFunc
	onSent socket.SendFunc
}

func newSockConn(s *socket.Socket) *sockConn {
	c := &sockConn{s: s, rdone: make(chan ioResult, 1), wdone: make(chan error, 1)}
	c.onRecv = func(n int, err error) { c.rdone <- ioResult{n, err} }
	c.onSent = func(err error) { c.wdone <- err }
	return c
}

// Read receives at most len(p) bytes. End of stream is io.EOF; an idle
// timeout is socket.ErrTimeout.
func (c *sockConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rb[0] = p
	if err := c.s.Receive(c.rb[:], c.onRecv); err != nil {
		c.rb[0] = nil
		return 0, readErr(err)
	}
	r := <-c.rdone
	c.rb[0] = nil
	if r.err != nil {
		return r.n, readErr(r.err)
	}
	return r.n, nil
}

// readErr maps the socket's completion errors to a reader's: the peer's
// end of stream is io.EOF, our own Close is net.ErrClosed.
func readErr(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, socket.ErrNotOpen), errors.Is(err, socket.ErrAbandoned) && errors.Unwrap(err) == nil:
		return net.ErrClosed
	}
	return err
}

// Write sends all of p.
func (c *sockConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.wb[0] = p
	err := c.s.Send(c.wb[:], c.onSent)
	if err == nil {
		err = <-c.wdone
	}
	c.wb[0] = nil
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the socket; pending reads and writes end.
func (c *sockConn) Close() error {
	c.s.Close()
	return nil
}

// CloseWrite shuts the sending side: the peer reads the end of stream.
func (c *sockConn) CloseWrite() error { return c.s.CloseWrite() }
