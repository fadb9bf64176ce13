//go:build linux && !overlap_portable

// Asynchronous connect on Linux: a non-blocking connect, completed when
// the descriptor turns writable.

package socket

import (
	"net"
	"os"
	"sync"

	"github.com/overlap-go/overlap/engine"
	"golang.org/x/sys/unix"
)

// DialFunc receives a connected, open socket, or the error of the connect.
type DialFunc func(s *Socket, err error)

// Dial connects to addr ("host:port") asynchronously; cb runs exactly once,
// on a loop, after Dial has returned. A host name is resolved on a goroutine
// of its own; an IP address is not resolved at all.
func Dial(e *engine.Engine, addr string, opts *Options, cb DialFunc) error {
	if cb == nil {
		return ErrInvalid
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: staticAddr(addr), Err: err}
	}
	if err := e.Acquire(); err != nil {
		return err
	}
	c := &connector{eng: e, loop: e.Next(), addr: addr, opts: opts, cb: cb, fd: -1}
	if net.ParseIP(host) != nil || host == "" {
		ta, err := net.ResolveTCPAddr("tcp", addr)
		c.start(ta, err)
	} else {
		go func() { c.start(net.ResolveTCPAddr("tcp", addr)) }()
	}
	return nil
}

type connector struct {
	mu   sync.Mutex
	eng  *engine.Engine
	loop *engine.Loop
	addr string
	opts *Options
	cb   DialFunc
	fd   int
	err  error
	s    *Socket
	fin  bool
}

func (c *connector) start(ta *net.TCPAddr, err error) {
	if err == nil {
		var sa unix.Sockaddr
		var family int
		sa, family = tcpSockaddr(ta)
		if ta.IP == nil {
			sa, family = &unix.SockaddrInet4{Port: ta.Port, Addr: [4]byte{127, 0, 0, 1}}, unix.AF_INET
		}
		c.fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Connect(c.fd, sa)
			if err == unix.EINPROGRESS {
				c.mu.Lock()
				if err = c.loop.Register(c.fd, c); err == nil {
					c.mu.Unlock()
					return // OnEvents finishes
				}
				c.mu.Unlock()
			}
			if err != nil {
				err = os.NewSyscallError("connect", err)
			}
		} else {
			err = os.NewSyscallError("socket", err)
		}
	}
	c.finish(err, false)
}

// OnEvents sees the connect finish.
func (c *connector) OnEvents(ev uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fin {
		return
	}
	soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr != 0 {
		err = os.NewSyscallError("connect", unix.Errno(soerr))
	}
	if err == nil && ev&unix.EPOLLOUT == 0 {
		return // not finished yet
	}
	c.loop.Unregister(c.fd)
	c.finishLocked(err)
	c.loop.Schedule(c)
}

func (c *connector) finish(err error, _ bool) {
	c.mu.Lock()
	c.finishLocked(err)
	c.mu.Unlock()
	c.loop.Schedule(c)
}

func (c *connector) finishLocked(err error) {
	c.fin = true
	if err == nil {
		s := New(c.eng, c.opts)
		if err = s.openFD(c.fd); err == nil {
			c.s = s
		}
	}
	if err != nil {
		if c.fd >= 0 {
			unix.Close(c.fd)
		}
		c.err = &net.OpError{Op: "dial", Net: "tcp", Addr: staticAddr(c.addr), Err: err}
	}
}

// RunTask delivers the result on the loop, after Dial has returned.
func (c *connector) RunTask() {
	c.eng.Release()
	c.cb(c.s, c.err)
}
