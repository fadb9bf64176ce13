// Command stdnet is the Go standard-library echo server used as a peer in the
// overlap benchmarks: one goroutine per connection, each running a plain
// read-then-write loop over a fixed buffer (no io.Copy, which on Linux would
// splice socket to socket and bypass user space).
package main

import (
	"flag"
	"net"

	"github.com/overlap-go/overlap/bench/internal/serve"
)

func main() {
	addr := serve.Addr()
	bufSize := flag.Int("buf", 16<<10, "per-connection read buffer size in bytes")
	flag.Parse()
	serve.RaiseNoFile()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		serve.Fatal("listen", err)
	}
	serve.Announce(ln.Addr().String())

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return // listener closed
			}
			go echo(c, *bufSize)
		}
	}()
	serve.WaitSignal()
}

// echo copies everything c sends back to it until either side fails.
// Go's net package enables TCP_NODELAY on accepted connections by default.
func echo(c net.Conn, bufSize int) {
	defer c.Close()
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
