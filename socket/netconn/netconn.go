// Package netconn adapts overlap's completion-based sockets to Go's
// net.Conn and net.Listener, so that code written against the standard
// interfaces (grpc-go, net/http) can run on overlap's engine.
//
// A Conn's Read and Write block on channels fed by socket completions: Read
// posts one receive into the Conn's own buffer and waits for it; Write
// copies its bytes, posts one send and returns, and the next Write (or
// Close) waits for that send's completion first. So at most one receive and
// one send are in flight per Conn, memory per Conn is bounded (two
// buffers), and a write error surfaces at the next Write or Close. Deadlines
// work as net.Conn documents, including on calls already blocked.
//
// It uses only package socket's public API.
package netconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/overlap-go/overlap/socket"
)

// ReadBufferSize is the size of a Conn's receive buffer.
const ReadBufferSize = 32 << 10

// closeFlushTimeout bounds how long Close waits for the last Write to reach
// the kernel before closing anyway.
const closeFlushTimeout = 5 * time.Second

// Conn is a net.Conn over an open overlap socket.
type Conn struct {
	s            *socket.Socket
	laddr, raddr net.Addr
	onRecv       socket.ReceiveFunc
	onSent       socket.SendFunc
	closed       chan struct{}
	closeOnce    sync.Once

	rmu      sync.Mutex // one Read at a time
	rbuf     []byte
	rdata    []byte // received, not yet read
	rpending bool   // a receive is posted
	rdone    chan recvResult
	rerr     error // sticky: end of stream, reset, closed
	rdl      deadline

	wmu      sync.Mutex // one Write at a time
	wbuf     []byte
	wbufs    [1][]byte
	wpending bool // a send is posted
	wdone    chan error
	werr     error // sticky
	wdl      deadline
}

type recvResult struct {
	n   int
	err error
}

// New wraps an open socket. The Conn owns it from then on: Close closes it.
func New(s *socket.Socket) *Conn {
	c := &Conn{
		s:      s,
		laddr:  s.LocalAddr(),
		raddr:  s.RemoteAddr(),
		closed: make(chan struct{}),
		rdone:  make(chan recvResult, 1),
		wdone:  make(chan error, 1),
	}
	c.rdl.init()
	c.wdl.init()
	c.onRecv = func(n int, err error) { c.rdone <- recvResult{n, err} }
	c.onSent = func(err error) { c.wdone <- err }
	return c
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
}

func (c *Conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Read reads what has arrived, waiting for at least one byte. At end of
// stream it returns io.EOF.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.isClosed() {
		return 0, c.opError("read", net.ErrClosed)
	}
	if len(c.rdata) > 0 {
		n := copy(p, c.rdata)
		c.rdata = c.rdata[n:]
		return n, nil
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	if len(p) == 0 {
		return 0, nil
	}
	if isPast(c.rdl.wait()) {
		return 0, c.opError("read", os.ErrDeadlineExceeded)
	}
	if !c.rpending {
		if c.rbuf == nil {
			c.rbuf = make([]byte, ReadBufferSize)
		}
		if err := c.s.Receive([][]byte{c.rbuf}, c.onRecv); err != nil {
			return 0, c.opError("read", c.sockErr(err))
		}
		c.rpending = true
	}
	select {
	case r := <-c.rdone:
		c.rpending = false
		if r.err != nil {
			if errors.Is(r.err, io.EOF) {
				c.rerr = io.EOF
			} else {
				c.rerr = c.opError("read", c.sockErr(r.err))
			}
			return 0, c.rerr
		}
		c.rdata = c.rbuf[:r.n]
		n := copy(p, c.rdata)
		c.rdata = c.rdata[n:]
		return n, nil
	case <-c.rdl.wait():
		// The receive stays posted: its bytes are read by the next Read.
		return 0, c.opError("read", os.ErrDeadlineExceeded)
	case <-c.closed:
		return 0, c.opError("read", net.ErrClosed)
	}
}

// sockErr maps a socket error to what net.Conn callers expect.
func (c *Conn) sockErr(err error) error {
	if c.isClosed() || (errors.Is(err, socket.ErrAbandoned) && errors.Unwrap(err) == nil) {
		return net.ErrClosed
	}
	if errors.Is(err, socket.ErrAbandoned) {
		return errors.Unwrap(err)
	}
	return err
}

// Write hands p to the socket and returns len(p) once the send is posted;
// p may be reused at once (it is copied). It first waits for the previous
// Write's send to complete, and returns that send's error if it failed.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return 0, c.opError("write", net.ErrClosed)
	}
	if c.werr != nil {
		return 0, c.werr
	}
	if isPast(c.wdl.wait()) {
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := c.waitSentLocked(c.wdl.wait()); err != nil {
		return 0, err
	}
	if cap(c.wbuf) < len(p) {
		c.wbuf = make([]byte, len(p))
	}
	c.wbufs[0] = c.wbuf[:len(p)]
	copy(c.wbufs[0], p)
	if err := c.s.Send(c.wbufs[:], c.onSent); err != nil {
		c.werr = c.opError("write", c.sockErr(err))
		return 0, c.werr
	}
	c.wpending = true
	return len(p), nil
}

// waitSentLocked waits for the send in flight, if any, until timeout
// closes.
func (c *Conn) waitSentLocked(timeout <-chan struct{}) error {
	if !c.wpending {
		return nil
	}
	select {
	case err := <-c.wdone:
		c.wpending = false
		if err != nil {
			c.werr = c.opError("write", c.sockErr(err))
			return c.werr
		}
		return nil
	case <-timeout:
		return c.opError("write", os.ErrDeadlineExceeded)
	case <-c.closed:
		return c.opError("write", net.ErrClosed)
	}
}

// Close waits (a few seconds at most) for the last Write to reach the
// kernel, then closes the socket; blocked Reads and Writes return
// net.ErrClosed.
func (c *Conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		// Let the last Write go out: grpc-go writes a GOAWAY and closes.
		if c.wmu.TryLock() {
			if c.wpending {
				t := time.NewTimer(closeFlushTimeout)
				select {
				case <-c.wdone:
					c.wpending = false
				case <-t.C:
				}
				t.Stop()
			}
			c.wmu.Unlock()
		}
		close(c.closed)
		c.s.Close()
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// CloseWrite shuts down the sending side once what was written has gone
// out: the peer reads end of stream.
func (c *Conn) CloseWrite() error {
	if err := c.s.CloseWrite(); err != nil {
		return c.opError("close", c.sockErr(err))
	}
	return nil
}

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both the read and the write deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set deadline", net.ErrClosed)
	}
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the deadline of future and currently blocked Reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set deadline", net.ErrClosed)
	}
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline sets the deadline of future and currently blocked
// Writes.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set deadline", net.ErrClosed)
	}
	c.wdl.set(t)
	return nil
}

// deadline is a channel closed when a deadline passes; setting a new one
// reaches calls already blocked on it.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
}

func (d *deadline) init() { d.cancel = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: wait for it to close cancel
	}
	d.timer = nil
	closed := isPast(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		ch := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isPast(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
