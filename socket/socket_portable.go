//go:build !linux || overlap_portable

// The portable backend of Socket, on Go's net package: a reader and a
// writer goroutine per socket do the blocking I/O and hand results to the
// socket's loop, which runs the completions exactly as the epoll backend
// does. It exists so overlap's API runs everywhere Go runs; it spends a
// goroutine pair per connection, which the Linux backend does not.

package socket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

type sys struct {
	conn    net.Conn
	rstore  []byte // the reader's buffer
	rbuf    []byte // read, not yet delivered (a slice of rstore)
	rdEnd   error
	wrErr   error
	writing *op // the send the writer goroutine is writing
	reading bool
	shutWr  int8
	rcond   sync.Cond
	wcond   sync.Cond
	exited  int // reader and writer goroutines that have exited
}

// Open takes ownership of conn and opens the socket on it; cb runs with nil
// before Open returns. On failure no callback runs and conn is left alone.
func (s *Socket) Open(conn net.Conn, cb OpenFunc) error {
	if conn == nil || cb == nil {
		return fmt.Errorf("%w: nil connection or callback", ErrInvalid)
	}
	if err := s.openConn(conn); err != nil {
		return err
	}
	cb(nil)
	return nil
}

func (s *Socket) openConn(conn net.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return ErrReopen
	}
	if s.state != Closed {
		return fmt.Errorf("%w: socket is %v", ErrInvalid, s.state)
	}
	if err := s.eng.Acquire(); err != nil {
		return err
	}
	s.conn = conn
	if tc, ok := conn.(*net.TCPConn); ok && s.opts.Transport == nil {
		tc.SetNoDelay(!s.opts.DelayOn)
		if s.opts.KeepAlive > 0 {
			tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: s.opts.KeepAlive, Interval: s.opts.KeepAlive})
		}
	}
	s.rcond.L = &s.mu
	s.wcond.L = &s.mu
	s.loop = s.eng.Next()
	s.state = Open
	s.used = true
	go s.reader()
	go s.writer()
	return nil
}

// SetNoDelay sets TCP_NODELAY (on by default).
func (s *Socket) SetNoDelay(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	if tc, ok := s.conn.(*net.TCPConn); ok {
		return tc.SetNoDelay(on)
	}
	return nil
}

// SetKeepAlive turns TCP keep-alive on or off.
func (s *Socket) SetKeepAlive(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	if tc, ok := s.conn.(*net.TCPConn); ok {
		return tc.SetKeepAlive(on)
	}
	return nil
}

// LocalAddr returns the socket's local address, or nil when not open.
func (s *Socket) LocalAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return nil
	}
	return s.conn.LocalAddr()
}

// RemoteAddr returns the peer's address, or nil when not open.
func (s *Socket) RemoteAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return nil
	}
	return s.conn.RemoteAddr()
}

// CloseWrite shuts down the sending side once every queued send is
// written: the peer reads end of stream. Receiving goes on.
func (s *Socket) CloseWrite() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	if s.shutWr == 0 {
		s.shutWr = 1
		s.wcond.Signal()
	}
	return nil
}

// reader reads ahead whenever a receive or a readable notification waits
// and nothing read is left undelivered.
func (s *Socket) reader() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.state == Open && s.rdEnd == nil {
		if len(s.rbuf) > 0 || (!s.hasRecvLocked() && !s.wantsNotifyLocked(Readable)) {
			s.rcond.Wait()
			continue
		}
		if s.rstore == nil {
			s.rstore = make([]byte, s.eng.LentBufferSize())
		}
		s.reading = true
		s.mu.Unlock()
		n, err := s.rawRead(s.rstore)
		s.mu.Lock()
		s.reading = false
		if n > 0 {
			s.rbuf = s.rstore[:n]
		}
		if err != nil && s.state == Open {
			s.rdEnd = err
		}
		s.requestRunLocked()
	}
	s.exited++
	if s.state == Closing {
		s.requestRunLocked()
	}
}

func (s *Socket) rawRead(p []byte) (int, error) {
	t := s.opts.Transport
	if t == nil {
		return s.conn.Read(p)
	}
	for {
		n, err := t.Recv(p)
		if n > 0 {
			return n, nil
		}
		if err == nil {
			return 0, io.EOF
		}
		if !errors.Is(err, syscall.EAGAIN) {
			return 0, err
		}
		if werr := s.waitReady(); werr != nil {
			return 0, werr
		}
	}
}

func (s *Socket) rawWrite(p []byte) error {
	t := s.opts.Transport
	for len(p) > 0 {
		n, err := t.Send(p)
		if n > 0 {
			p = p[n:]
		}
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		if err != nil {
			if werr := s.waitReady(); werr != nil {
				return werr
			}
		}
	}
	return nil
}

// waitReady waits a little for a custom transport that said EAGAIN: the
// portable backend has no readiness events to wait on.
func (s *Socket) waitReady() error {
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	if st != Open {
		return net.ErrClosed
	}
	time.Sleep(time.Millisecond)
	return nil
}

// writer writes queued sends one at a time, in order.
func (s *Socket) writer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.state == Open {
		if s.sendq.head == nil {
			if s.shutWr == 1 {
				s.shutWr = 2
				if cw, ok := s.conn.(interface{ CloseWrite() error }); ok && s.opts.Transport == nil {
					cw.CloseWrite()
				}
			}
			s.wcond.Wait()
			continue
		}
		o := s.sendq.pop()
		s.writing = o
		s.mu.Unlock()
		var err error
		if s.opts.Transport != nil {
			for i := o.idx; i < len(o.bufs) && err == nil; i++ {
				err = s.rawWrite(o.bufs[i][o.off:])
				o.off = 0
			}
		} else {
			bufs := make(net.Buffers, 0, len(o.bufs))
			for i := o.idx; i < len(o.bufs); i++ {
				bufs = append(bufs, o.bufs[i][o.off:])
				o.off = 0
			}
			_, err = bufs.WriteTo(s.conn)
		}
		o.idx = len(o.bufs)
		s.mu.Lock()
		s.writing = nil
		s.queued -= int32(o.total)
		switch {
		case s.state != Open:
			s.completeOpLocked(o, 0, errClosedAbandon)
		case err != nil:
			s.wrErr = err
			werr := &net.OpError{Op: "write", Net: "tcp", Err: err}
			s.completeOpLocked(o, 0, werr)
			s.sendq.moveAll(&s.done, werr)
			s.queued = 0
		default:
			s.completeOpLocked(o, 0, nil)
		}
		s.requestRunLocked()
	}
	s.exited++
	if s.state == Closing {
		s.requestRunLocked()
	}
}

func (s *Socket) wantsNotifyLocked(k IOKind) bool {
	for o := s.notq.head; o != nil; o = o.next {
		if o.notify == k {
			return true
		}
	}
	return false
}

func (s *Socket) sendBlockedLocked() error {
	if s.wrErr != nil {
		return fmt.Errorf("%w: %v", ErrNotOpen, s.wrErr)
	}
	if s.shutWr != 0 {
		return fmt.Errorf("%w: write side closed", ErrNotOpen)
	}
	return nil
}

// trySendLocked hands the send to the writer goroutine.
func (s *Socket) trySendLocked(o *op) error {
	s.wcond.Signal()
	return nil
}

// pumpLocked delivers read-ahead bytes to receives, wakes the reader and
// the writer, and fires readiness notifications.
func (s *Socket) pumpLocked() {
	if len(s.rbuf) > 0 || s.rdEnd != nil {
		s.materializeLocked()
	}
	for s.recvq.head != nil && len(s.rbuf) > 0 {
		o := s.recvq.pop()
		var n int
		if o.kind == opRecvLent {
			lent := s.lentBuffer(o)
			n = copy(lent, s.rbuf)
			o.lent = lent[:n]
		} else {
			for _, b := range o.bufs {
				n += copy(b, s.rbuf[n:])
			}
		}
		s.rbuf = s.rbuf[n:]
		s.completeOpLocked(o, n, nil)
		s.touchIdleLocked()
		if o.kind == opRecvLent && !s.eng.HasWorkers() {
			break // the loop's lent buffer is in use until the callback returns
		}
	}
	if len(s.rbuf) == 0 && s.rdEnd != nil && s.recvq.head != nil {
		cause := errEOFAbandon
		if s.rdEnd != io.EOF {
			cause = &abandoned{cause: s.rdEnd}
		}
		s.recvq.moveAll(&s.done, cause)
	}
	if len(s.rbuf) == 0 && (s.hasRecvLocked() || s.notq.head != nil) {
		s.rcond.Signal()
	}
	if s.notq.head != nil {
		var keep opList
		for o := s.notq.pop(); o != nil; o = s.notq.pop() {
			ready := false
			if o.notify == Readable {
				ready = len(s.rbuf) > 0 || s.rdEnd != nil
			} else {
				ready = (s.writing == nil && s.sendq.head == nil) || s.wrErr != nil
			}
			if ready {
				s.completeOpLocked(o, 0, nil)
			} else {
				keep.push(o)
			}
		}
		s.notq = keep
	}
}

// interruptLocked unblocks the reader and the writer.
func (s *Socket) interruptLocked() {
	s.conn.Close()
	s.rcond.Broadcast()
	s.wcond.Broadcast()
}

// busyLocked reports whether the reader or writer goroutine still runs:
// teardown waits for both, so no goroutine outlives the socket.
func (s *Socket) busyLocked() bool { return s.exited < 2 }

func (s *Socket) closeSysLocked() {
	s.conn.Close()
	s.rstore, s.rbuf = nil, nil
}

var _ = os.ErrClosed
