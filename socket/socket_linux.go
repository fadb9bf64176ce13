//go:build linux && !overlap_portable

// The Linux backend of Socket: a non-blocking descriptor registered
// edge-triggered with its loop's epoll; readiness is kept as two flags so
// that no operation costs an epoll_ctl, and I/O is done with raw system
// calls (they never block on a non-blocking descriptor).

package socket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type sys struct {
	fd       int32
	readable bool // no EAGAIN seen since the last EPOLLIN edge
	writable bool // no EAGAIN or short write since the last EPOLLOUT edge
	rdhup    bool // the peer's FIN (or an error) was signalled: read until 0
	shutWr   int8 // 1: CloseWrite requested, 2: done
	ends     *ioEnds
}

// ioEnds records why each direction ended; nil while both work.
type ioEnds struct {
	rdEnd error // io.EOF or the error that ended the read side
	wrErr error // the error that ended the write side
}

func (s *Socket) rdEnd() error {
	if s.ends == nil {
		return nil
	}
	return s.ends.rdEnd
}

func (s *Socket) wrErr() error {
	if s.ends == nil {
		return nil
	}
	return s.ends.wrErr
}

func (s *Socket) endsLocked() *ioEnds {
	if s.ends == nil {
		s.ends = new(ioEnds)
	}
	return s.ends
}

// maxIov bounds the buffers of one readv or writev; more are done in
// several calls.
const maxIov = 64

// Open takes ownership of conn's connection (a *net.TCPConn or any
// syscall.Conn) and opens the socket on it; cb runs with nil before Open
// returns. On success conn itself is closed: the socket owns a duplicate of
// its descriptor. On failure no callback runs and conn is left alone.
func (s *Socket) Open(conn net.Conn, cb OpenFunc) error {
	if conn == nil || cb == nil {
		return fmt.Errorf("%w: nil connection or callback", ErrInvalid)
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%w: %T has no file descriptor", ErrInvalid, conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return err
	}
	if derr != nil {
		return os.NewSyscallError("dup", derr)
	}
	if err := s.OpenFD(fd, cb); err != nil {
		unix.Close(fd)
		return err
	}
	conn.Close()
	return nil
}

// OpenFD opens the socket on a connected stream socket descriptor, which it
// owns from then on; cb runs with nil before OpenFD returns.
func (s *Socket) OpenFD(fd int, cb OpenFunc) error {
	if fd < 0 || cb == nil {
		return fmt.Errorf("%w: bad descriptor or nil callback", ErrInvalid)
	}
	if err := s.openFD(fd); err != nil {
		return err
	}
	cb(nil)
	return nil
}

func (s *Socket) openFD(fd int) error {
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
	s.state = Opening
	if err := unix.SetNonblock(fd, true); err != nil {
		s.state = Closed
		s.eng.Release()
		return os.NewSyscallError("setnonblock", err)
	}
	s.fd = int32(fd)
	s.applyOptions()
	s.readable, s.writable = true, true
	s.loop = s.eng.Next()
	s.state = Open
	s.used = true
	if err := s.loop.Register(fd, s); err != nil {
		s.state = Closed
		s.eng.Release()
		return err
	}
	return nil
}

func (s *Socket) applyOptions() {
	if s.opts.Transport != nil {
		return
	}
	// Errors here (a Unix socket, say) are not fatal: the options are hints.
	if !s.opts.DelayOn {
		unix.SetsockoptInt(int(s.fd), unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if ka := s.opts.KeepAlive; ka > 0 {
		unix.SetsockoptInt(int(s.fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		secs := max(int(ka.Seconds()), 1)
		unix.SetsockoptInt(int(s.fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs)
		unix.SetsockoptInt(int(s.fd), unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs)
	}
}

// SetNoDelay sets TCP_NODELAY (on by default).
func (s *Socket) SetNoDelay(on bool) error {
	return s.setsockopt(unix.IPPROTO_TCP, unix.TCP_NODELAY, on)
}

// SetKeepAlive turns TCP keep-alive on or off.
func (s *Socket) SetKeepAlive(on bool) error {
	return s.setsockopt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, on)
}

func (s *Socket) setsockopt(level, opt int, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return notOpen(s.state)
	}
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(int(s.fd), level, opt, v))
}

// LocalAddr returns the socket's local address, or nil when not open.
func (s *Socket) LocalAddr() net.Addr { return s.addr(unix.Getsockname) }

// RemoteAddr returns the peer's address, or nil when not open.
func (s *Socket) RemoteAddr() net.Addr { return s.addr(unix.Getpeername) }

func (s *Socket) addr(get func(int) (unix.Sockaddr, error)) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != Open {
		return nil
	}
	sa, err := get(int(s.fd))
	if err != nil {
		return nil
	}
	return sockaddrToTCP(sa)
}

func sockaddrToTCP(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
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
		s.requestRunLocked()
	}
	return nil
}

// OnEvents receives the socket's epoll events on its loop.
func (s *Socket) OnEvents(ev uint32) {
	s.mu.Lock()
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.readable = true
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.rdhup = true
	}
	if ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.writable = true
	}
	if s.scheduled || s.state != Open {
		s.mu.Unlock()
		return
	}
	s.scheduled = true
	s.runLocked()
}

func (s *Socket) sendBlockedLocked() error {
	if s.wrErr() != nil {
		return fmt.Errorf("%w: %v", ErrNotOpen, s.wrErr())
	}
	if s.shutWr != 0 {
		return fmt.Errorf("%w: write side closed", ErrNotOpen)
	}
	return nil
}

// trySendLocked writes what the kernel takes now. A reset seen here is the
// synchronous NotOpen of the contract.
func (s *Socket) trySendLocked(o *op) error {
	if !s.writable {
		return nil
	}
	if _, err := s.writeLocked(o); err != nil {
		s.endsLocked().wrErr = err
		if isReset(err) {
			return fmt.Errorf("%w: %v", ErrNotOpen, err)
		}
		return &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("writev", err)}
	}
	return nil
}

func isReset(err error) bool {
	return errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE)
}

// writeLocked writes o from its progress until done, EAGAIN or an error,
// and returns the bytes written. EAGAIN is not an error.
func (s *Socket) writeLocked(o *op) (int, error) {
	written := 0
	for o.idx < len(o.bufs) && s.writable {
		n, want, err := s.writeOnce(o)
		if n > 0 {
			written += n
			advance(o, n)
		}
		switch {
		case err == unix.EAGAIN:
			s.writable = false
		case err == unix.EINTR:
		case err != nil:
			return written, err
		case n < want:
			// A short write means the socket buffer is full: wait for the
			// edge instead of paying for an EAGAIN.
			s.writable = false
		}
	}
	return written, nil
}

func advance(o *op, n int) {
	for n > 0 {
		rest := len(o.bufs[o.idx]) - o.off
		if n < rest {
			o.off += n
			return
		}
		n -= rest
		o.idx++
		o.off = 0
	}
}

// writeOnce does one write or writev of o's unsent bytes.
func (s *Socket) writeOnce(o *op) (n, want int, err error) {
	if t := s.opts.Transport; t != nil {
		b := o.bufs[o.idx][o.off:]
		n, err := t.Send(b)
		if errors.Is(err, syscall.EAGAIN) {
			err = unix.EAGAIN
		}
		return max(n, 0), len(b), err
	}
	if o.idx == len(o.bufs)-1 {
		b := o.bufs[o.idx][o.off:]
		r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		return errnoResult(r, e, len(b))
	}
	var iov [maxIov]unix.Iovec
	cnt := 0
	for i := o.idx; i < len(o.bufs) && cnt < maxIov; i++ {
		b := o.bufs[i]
		if i == o.idx {
			b = b[o.off:]
		}
		iov[cnt].Base = &b[0]
		iov[cnt].SetLen(len(b))
		want += len(b)
		cnt++
	}
	r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(s.fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(cnt))
	return errnoResult(r, e, want)
}

func errnoResult(r uintptr, e unix.Errno, want int) (int, int, error) {
	if e != 0 {
		return 0, want, e
	}
	return int(r), want, nil
}

// readInto reads once into bufs (scatter) and returns the byte count and
// the capacity offered.
func (s *Socket) readInto(bufs [][]byte) (n, want int, err error) {
	if t := s.opts.Transport; t != nil {
		for _, b := range bufs {
			m, err := t.Recv(b)
			if errors.Is(err, syscall.EAGAIN) {
				err = unix.EAGAIN
			}
			if m > 0 {
				n += m
			}
			want += len(b)
			if err != nil || m < len(b) {
				if n > 0 {
					return n, want, nil
				}
				return n, want, err
			}
		}
		return n, want, nil
	}
	if len(bufs) == 1 {
		return s.readOne(bufs[0])
	}
	var iov [maxIov]unix.Iovec
	cnt := 0
	for _, b := range bufs {
		if cnt == maxIov {
			break
		}
		iov[cnt].Base = &b[0]
		iov[cnt].SetLen(len(b))
		want += len(b)
		cnt++
	}
	r, _, e := unix.RawSyscall(unix.SYS_READV, uintptr(s.fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(cnt))
	return errnoResult(r, e, want)
}

// readOne reads once into b.
func (s *Socket) readOne(b []byte) (n, want int, err error) {
	if t := s.opts.Transport; t != nil {
		n, err := t.Recv(b)
		if errors.Is(err, syscall.EAGAIN) {
			err = unix.EAGAIN
		}
		if n > 0 {
			err = nil
		}
		return max(n, 0), len(b), err
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return errnoResult(r, e, len(b))
}

// pumpLocked moves every pending operation as far as readiness allows.
func (s *Socket) pumpLocked() {
	if s.hasRecvLocked() {
		s.pumpRecvLocked()
	}
	if s.sendq.head != nil || s.shutWr == 1 {
		s.pumpSendLocked()
	}
	if s.notq.head != nil {
		s.pumpNotifyLocked()
	}
}

func (s *Socket) pumpRecvLocked() {
	if s.readable || s.rdEnd() != nil {
		s.materializeLocked()
	}
	for s.recvq.head != nil && s.rdEnd() == nil && s.readable {
		o := s.recvq.head
		var n, want int
		var err error
		var lent []byte
		if o.kind == opRecvLent {
			lent = s.lentBuffer(o)
			n, want, err = s.readOne(lent)
		} else {
			n, want, err = s.readInto(o.bufs)
		}
		if n > 0 {
			s.recvq.pop()
			if lent != nil {
				o.lent = lent[:n]
			}
			s.completeOpLocked(o, n, nil)
			s.touchIdleLocked()
			if n < want && !s.rdhup {
				// Drained: the next arrival brings an edge. Not so once the
				// FIN was signalled: it is waiting behind the data, and
				// no edge will announce it again.
				s.readable = false
			}
			if lent != nil && !s.eng.HasWorkers() {
				return // the loop's lent buffer is in use until the callback returns
			}
			continue
		}
		if o.pooled != nil {
			lentPool.Put(o.pooled)
			o.pooled = nil
		}
		switch {
		case err == nil:
			s.endsLocked().rdEnd = io.EOF
		case err == unix.EAGAIN:
			s.readable = false
		case err == unix.EINTR:
		default:
			s.endsLocked().rdEnd = err
		}
	}
	if s.rdEnd() != nil && s.recvq.head != nil {
		cause := errEOFAbandon
		if s.rdEnd() != io.EOF {
			cause = &abandoned{cause: os.NewSyscallError("read", s.rdEnd())}
		}
		s.recvq.moveAll(&s.done, cause)
	}
	s.dematerializeLocked()
}

func (s *Socket) pumpSendLocked() {
	for s.sendq.head != nil && s.writable && s.wrErr() == nil {
		o := s.sendq.head
		n, err := s.writeLocked(o)
		s.queued -= int32(n)
		if err != nil {
			s.endsLocked().wrErr = err
			break
		}
		if o.idx < len(o.bufs) {
			return // blocked: wait for EPOLLOUT
		}
		s.sendq.pop()
		s.completeOpLocked(o, 0, nil)
	}
	if s.wrErr() != nil && s.sendq.head != nil {
		s.sendq.moveAll(&s.done, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("writev", s.wrErr())})
		s.queued = 0
	}
	if s.shutWr == 1 && s.sendq.head == nil {
		s.shutWr = 2
		if s.opts.Transport == nil {
			unix.Shutdown(int(s.fd), unix.SHUT_WR)
		}
	}
}

func (s *Socket) pumpNotifyLocked() {
	var keep opList
	for o := s.notq.pop(); o != nil; o = s.notq.pop() {
		ready := false
		if o.notify == Readable {
			ready = s.rdEnd() != nil || (s.readable && s.peekReadable())
		} else {
			ready = s.writable || s.wrErr() != nil
		}
		if ready {
			s.completeOpLocked(o, 0, nil)
		} else {
			keep.push(o)
		}
	}
	s.notq = keep
}

// peekReadable confirms a readable flag: epoll may report readiness that a
// concurrent read already consumed, and NotifyIO must not fire spuriously.
func (s *Socket) peekReadable() bool {
	if s.opts.Transport != nil {
		return true
	}
	var b [1]byte
	_, _, err := unix.Recvfrom(int(s.fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err == unix.EAGAIN {
		s.readable = false
		return false
	}
	return true
}

// interruptLocked has nothing to interrupt: no goroutine blocks on the
// descriptor.
func (s *Socket) interruptLocked() {}

// busyLocked reports backend work that teardown must wait for: none here.
func (s *Socket) busyLocked() bool { return false }

// closeSysLocked releases the descriptor; it runs on the loop.
func (s *Socket) closeSysLocked() {
	s.loop.Unregister(int(s.fd))
	unix.Close(int(s.fd))
	s.fd = -1
}
