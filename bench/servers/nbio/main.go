// Command nbio is the github.com/lesismal/nbio echo server used as a peer in
// the overlap benchmarks, with nbio's defaults for raw TCP (level-triggered
// epoll, reads in the poller goroutine) and one poller per usable CPU.
package main

import (
	"flag"
	"os"
	"runtime"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"

	"github.com/overlap-go/overlap/bench/internal/serve"
)

func main() {
	addr := serve.Addr()
	flag.Parse()
	serve.RaiseNoFile()
	logging.Output = os.Stderr // stdout carries only the ready line

	eng := nbio.NewEngine(nbio.Config{
		Network: "tcp",
		Addrs:   []string{*addr},
		NPoller: runtime.NumCPU(),
	})
	eng.OnData(func(c *nbio.Conn, data []byte) {
		if _, err := c.Write(data); err != nil {
			c.Close()
		}
	})
	if err := eng.Start(); err != nil {
		serve.Fatal("nbio start", err)
	}
	serve.Announce(eng.Addrs[0]) // Start replaces the address with the bound one
	serve.WaitSignal()
}
