//go:build linux && !overlap_portable

// The Linux listener: a non-blocking listening descriptor on one loop,
// accept4 on each readiness edge for as many accepts as are pending.

package socket

import (
	"net"
	"os"
	"sync"

	"github.com/overlap-go/overlap/engine"
	"golang.org/x/sys/unix"
)

// Listener accepts connections asynchronously (seed 003's AcceptEx).
type Listener struct {
	mu        sync.Mutex
	eng       *engine.Engine
	loop      *engine.Loop
	opts      *Options
	fd        int
	addr      net.Addr
	pending   []acceptOp
	done      []acceptOp
	readable  bool
	scheduled bool
	closed    bool
	closing   chan struct{}
}

// Listen binds a TCP listener on addr ("host:port"; port 0 picks one).
// Accepted sockets get opts (nil for defaults). A failure says which address
// and why: errors.Is(err, syscall.EADDRINUSE) works.
func Listen(e *engine.Engine, addr string, opts *Options) (*Listener, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, listenError(addr, err)
	}
	sa, family := tcpSockaddr(ta)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, listenError(addr, os.NewSyscallError("socket", err))
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, listenError(addr, os.NewSyscallError("bind", err))
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return nil, listenError(addr, os.NewSyscallError("listen", err))
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, listenError(addr, os.NewSyscallError("getsockname", err))
	}
	if opts == nil {
		opts = &defaultOptions
	}
	l := &Listener{eng: e, loop: e.Next(), opts: opts, fd: fd, addr: sockaddrToTCP(bound), readable: true}
	if err := e.Acquire(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := l.loop.Register(fd, l); err != nil {
		unix.Close(fd)
		e.Release()
		return nil, listenError(addr, err)
	}
	return l, nil
}

func tcpSockaddr(a *net.TCPAddr) (unix.Sockaddr, int) {
	if ip4 := a.IP.To4(); ip4 != nil || a.IP == nil {
		sa := &unix.SockaddrInet4{Port: a.Port}
		if ip4 != nil {
			copy(sa.Addr[:], ip4)
		}
		if a.IP == nil {
			// "":port and ":port" listen on every IPv4 and IPv6 address.
			return &unix.SockaddrInet6{Port: a.Port}, unix.AF_INET6
		}
		return sa, unix.AF_INET
	}
	sa := &unix.SockaddrInet6{Port: a.Port}
	copy(sa.Addr[:], a.IP.To16())
	return sa, unix.AF_INET6
}

// OnEvents receives the listener's epoll events.
func (l *Listener) OnEvents(ev uint32) {
	l.mu.Lock()
	l.readable = true
	if l.scheduled {
		l.mu.Unlock()
		return
	}
	l.scheduled = true
	l.mu.Unlock()
	l.RunTask()
}

func (l *Listener) requestRunLocked() {
	if !l.scheduled {
		l.scheduled = true
		l.loop.Schedule(l)
	}
}

// RunTask accepts for the pending accepts and runs their callbacks, on the
// listener's loop. It implements engine.Task.
func (l *Listener) RunTask() {
	l.mu.Lock()
	for len(l.pending) > 0 && l.readable && !l.closed {
		nfd, _, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == unix.EAGAIN {
			l.readable = false
			break
		}
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		op := l.pending[0]
		l.pending = l.pending[1:]
		if err != nil {
			// EMFILE and friends: the caller decides how to back off.
			op.err = &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: os.NewSyscallError("accept4", err)}
		} else {
			s := New(l.eng, l.opts)
			if err := s.openFD(nfd); err != nil {
				unix.Close(nfd)
				op.err = err
			} else {
				op.s = s
			}
		}
		l.done = append(l.done, op)
	}
	if l.closed {
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
	if len(l.done) > 0 || (len(l.pending) > 0 && (l.readable || l.closed)) {
		l.requestRunLocked()
	} else if l.closed && l.fd >= 0 {
		l.loop.Unregister(l.fd)
		unix.Close(l.fd)
		l.fd = -1
		close(l.closing)
		l.eng.Release()
	}
	l.mu.Unlock()
}

// Close stops listening. Pending accepts complete with ErrAbandoned. It is
// idempotent; called from outside the engine it waits until the listening
// descriptor is closed and no accept callback runs.
func (l *Listener) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		l.closing = make(chan struct{})
		l.requestRunLocked()
	}
	ch := l.closing
	l.mu.Unlock()
	if !l.eng.OnEngineGoroutine() {
		<-ch
	}
	return nil
}
