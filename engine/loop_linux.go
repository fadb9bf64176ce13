//go:build linux && !overlap_portable

// The Linux backend: one epoll instance per loop, an eventfd to wake it,
// edge-triggered registrations so that a socket costs no epoll_ctl per
// operation.

package engine

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Backend names the readiness backend compiled in.
const Backend = "epoll"

// Handler receives readiness events for a registered file descriptor, on the
// loop goroutine. Events are epoll bits (unix.EPOLLIN, ...).
type Handler interface {
	OnEvents(events uint32)
}

// EdgeEvents is the interest set of every registration: readable, writable
// and peer-hangup, edge-triggered.
const EdgeEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

type poller struct {
	epfd, evfd int
	epf        *os.File        // epfd, known to Go's netpoller
	eprc       syscall.RawConn // to park on epfd's readiness
	pollFn     func(uintptr) bool
	polled     int
	pollErr    error
	deadline   bool // a read deadline is set on epf
	hmu        sync.Mutex
	handlers   []Handler // by fd
	batch      []Handler
	events     []unix.EpollEvent
}

func newLoop(e *Engine, id int) (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// The loop parks in Go's netpoller when it has nothing to do (the epoll
	// fd is itself pollable) instead of blocking in epoll_wait: a thread
	// blocked in a system call keeps its P, and with one loop per CPU no P
	// would be left to run the goroutines that callbacks wake (workers,
	// channel receivers, net/http) until sysmon steps in, up to 10 ms later.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	l := &Loop{e: e, id: id, epoch: time.Now(), lent: make([]byte, e.cfg.LentBufferSize)}
	l.epfd, l.evfd = epfd, evfd
	l.epf = os.NewFile(uintptr(epfd), "epoll")
	rc, err := l.epf.SyscallConn()
	if err != nil {
		l.epf.Close()
		unix.Close(evfd)
		return nil, err
	}
	l.eprc = rc
	l.pollFn = func(uintptr) bool {
		l.polled, l.pollErr = l.poll()
		return l.polled > 0 || l.pollErr != nil
	}
	l.events = make([]unix.EpollEvent, 256)
	return l, nil
}

func (l *Loop) start() {
	l.done = make(chan struct{})
	go l.run()
}

// Register adds fd to the loop's epoll set with EdgeEvents; h receives its
// events. It may be called from any goroutine.
func (l *Loop) Register(fd int, h Handler) error {
	l.hmu.Lock()
	if fd >= len(l.handlers) {
		n := max(2*len(l.handlers), fd+1, 64)
		grown := make([]Handler, n)
		copy(grown, l.handlers)
		l.handlers = grown
	}
	l.handlers[fd] = h
	l.hmu.Unlock()
	ev := unix.EpollEvent{Events: EdgeEvents, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.hmu.Lock()
		l.handlers[fd] = nil
		l.hmu.Unlock()
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// Unregister removes fd from the loop. Call it before closing fd.
func (l *Loop) Unregister(fd int) error {
	l.hmu.Lock()
	if fd < len(l.handlers) {
		l.handlers[fd] = nil
	}
	l.hmu.Unlock()
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *poller) wake() {
	one := uint64(1)
	// EAGAIN means the counter is already non-zero: the loop will wake.
	unix.Write(p.evfd, (*[8]byte)(unsafe.Pointer(&one))[:])
}

func (p *poller) close() {
	p.epf.Close()
	unix.Close(p.evfd)
}

func (l *Loop) run() {
	defer close(l.done)
	l.gid.Store(l.e.enterGoroutine())
	defer l.e.gids.Delete(l.gid.Load())
	for !l.quit.Load() {
		busy := l.runQueued()
		ms := 0
		if !busy {
			ms = l.timeoutBeforeSleep()
		}
		n, err := l.wait(ms)
		l.asleep.Store(false)
		if err != nil {
			if l.quit.Load() {
				break
			}
			panic(fmt.Sprintf("overlap engine: epoll_wait: %v", err))
		}
		l.dispatch(n)
	}
}

// wait returns ready events, polling without a system-call transition
// when it must not block, and otherwise parking the goroutine on Go's
// netpoller until epfd is readable or ms milliseconds pass.
func (l *Loop) wait(ms int) (int, error) {
	n, err := l.poll()
	if n > 0 || err != nil || ms == 0 {
		return n, err
	}
	if ms > 0 {
		l.epf.SetReadDeadline(time.Now().Add(time.Duration(ms) * time.Millisecond))
		l.deadline = true
	} else if l.deadline {
		l.epf.SetReadDeadline(time.Time{})
		l.deadline = false
	}
	l.polled, l.pollErr = 0, nil
	rerr := l.eprc.Read(l.pollFn)
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return 0, rerr
	}
	return l.polled, l.pollErr
}

// poll is epoll_wait with a zero timeout.
func (l *Loop) poll() (int, error) {
	for {
		r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(r), nil
	}
}

func (l *Loop) dispatch(n int) {
	if n == 0 {
		return
	}
	// Look the handlers up under one lock for the whole batch, then call
	// them without it: a handler may register new sockets on this loop.
	l.hmu.Lock()
	batch := l.batch[:0]
	for i := 0; i < n; i++ {
		fd := int(l.events[i].Fd)
		var h Handler
		if fd < len(l.handlers) {
			h = l.handlers[fd]
		}
		batch = append(batch, h)
	}
	l.hmu.Unlock()
	for i := 0; i < n; i++ {
		ev := &l.events[i]
		if int(ev.Fd) == l.evfd {
			var buf [8]byte
			unix.Read(l.evfd, buf[:])
			l.waking.Store(false)
			continue
		}
		if h := batch[i]; h != nil {
			h.OnEvents(ev.Events)
		}
		batch[i] = nil
	}
	l.batch = batch[:0]
	if n == len(l.events) && n < 4096 {
		l.events = make([]unix.EpollEvent, 2*n)
	}
}
