// Command netpoll is the github.com/cloudwego/netpoll echo server used as a
// peer in the overlap benchmarks. It follows netpoll's guide: one poller per
// GOMAXPROCS for I/O-heavy services, reading through the nocopy Reader and
// writing through the connection's Writer. OnRequest runs on netpoll's
// default goroutine pool.
package main

import (
	"context"
	"flag"
	"os"
	"runtime"

	"github.com/cloudwego/netpoll"

	"github.com/overlap-go/overlap/bench/internal/serve"
)

func init() {
	// netpoll reads its configuration before main; its docs ask for init().
	cfg := netpoll.Config{PollerNum: runtime.GOMAXPROCS(0), LoggerOutput: os.Stderr}
	if err := netpoll.Configure(cfg); err != nil {
		serve.Fatal("netpoll.Configure", err)
	}
}

// onRequest echoes whatever is buffered on conn. Next returns a view of the
// input buffer; WriteBinary references large slices instead of copying them,
// and Flush returns only once everything is on the socket, so the input is
// released after the flush.
func onRequest(_ context.Context, conn netpoll.Connection) error {
	r, w := conn.Reader(), conn.Writer()
	n := r.Len()
	if n == 0 {
		return nil
	}
	buf, err := r.Next(n)
	if err != nil {
		return err
	}
	if _, err := w.WriteBinary(buf); err != nil {
		return err
	}
	err = w.Flush()
	r.Release()
	return err
}

func main() {
	addr := serve.Addr()
	flag.Parse()
	serve.RaiseNoFile()

	ln, err := netpoll.CreateListener("tcp", *addr)
	if err != nil {
		serve.Fatal("listen", err)
	}
	loop, err := netpoll.NewEventLoop(onRequest)
	if err != nil {
		serve.Fatal("netpoll.NewEventLoop", err)
	}
	serve.Announce(ln.Addr().String())
	go func() {
		if err := loop.Serve(ln); err != nil {
			serve.Fatal("serve", err)
		}
	}()
	serve.WaitSignal()
}
