// Command gnet is the github.com/panjf2000/gnet/v2 echo server used as a peer
// in the overlap benchmarks, configured as gnet's README recommends for
// throughput: multicore (one event loop per usable CPU) and TCP_NODELAY.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/overlap-go/overlap/bench/internal/serve"
)

// echoServer echoes every inbound byte straight back from the event loop.
type echoServer struct {
	gnet.BuiltinEventEngine
}

// OnBoot announces the real listening address. gnet does not expose the
// bound address directly, so read it from a duplicate of the listener fd.
func (s *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	fd, err := eng.Dup()
	if err != nil {
		serve.Fatal("dup listener", err)
	}
	sa, err := unix.Getsockname(fd)
	unix.Close(fd)
	if err != nil {
		serve.Fatal("getsockname", err)
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		serve.Fatal("getsockname", fmt.Errorf("unexpected address %T", sa))
	}
	serve.Announce(fmt.Sprintf("%d.%d.%d.%d:%d", in4.Addr[0], in4.Addr[1], in4.Addr[2], in4.Addr[3], in4.Port))
	return gnet.None
}

// OnTraffic writes back everything that has arrived on c.
func (s *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if _, err := c.Write(buf); err != nil {
		return gnet.Close
	}
	return gnet.None
}

// stderrLogger keeps gnet's log lines off stdout, which is reserved for the
// ready line.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any)     {}
func (stderrLogger) Infof(f string, a ...any)  { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (stderrLogger) Warnf(f string, a ...any)  { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (stderrLogger) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (stderrLogger) Fatalf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...); os.Exit(1) }

func main() {
	addr := serve.Addr()
	flag.Parse()
	serve.RaiseNoFile()

	go func() {
		err := gnet.Run(&echoServer{}, "tcp://"+*addr,
			gnet.WithMulticore(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(stderrLogger{}),
		)
		if err != nil {
			serve.Fatal("gnet.Run", err)
		}
	}()
	serve.WaitSignal()
}
