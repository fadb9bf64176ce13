// Package echo is the echo service of seed 003, done right: any number of
// clients, every byte echoed in order, and a client that sends without
// reading is simply not read from until its echo drains.
package echo

import (
	"github.com/overlap-go/overlap/socket"
)

// DefaultAddr is where `overlap serve` runs the echo service.
const DefaultAddr = "0.0.0.0:7007"

// Handler echoes every connection. Its zero value is ready to use.
//
// Each connection alternates one receive and one send: the receive borrows
// the loop's buffer, the send writes it back at once, and only when the
// send has completed is the next receive posted. So a connection holds no
// buffer while idle, and at most one receive's worth of bytes (copied by
// the socket only if the kernel could not take them) while its peer is not
// reading: the server's memory stays bounded by construction.
type Handler struct{}

// ServeSocket starts echoing s.
func (Handler) ServeSocket(s *socket.Socket) {
	c := &conn{s: s}
	c.onRecv = c.received
	c.onSent = c.sent
	if err := s.ReceiveLent(c.onRecv); err != nil {
		s.Close()
	}
}

type conn struct {
	s      *socket.Socket
	out    [1][]byte
	onRecv socket.ReceiveLentFunc
	onSent socket.SendFunc
}

func (c *conn) received(p []byte, err error) {
	if err != nil {
		c.s.Close()
		return
	}
	c.out[0] = p
	if err := c.s.Send(c.out[:], c.onSent); err != nil {
		c.s.Close()
	}
}

func (c *conn) sent(err error) {
	c.out[0] = nil
	if err != nil {
		c.s.Close()
		return
	}
	if err := c.s.ReceiveLent(c.onRecv); err != nil {
		c.s.Close()
	}
}
