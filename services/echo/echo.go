// Package echo is the echo service of seed 003, done right: any number of
// clients, every byte echoed in order, and a client that sends without
// reading is simply not read from until its echo drains.
package echo

import (
	"sync/atomic"

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
type Handler struct {
	// Stats, if set, counts what is echoed.
	Stats *Stats
}

// Stats counts echoed bytes and messages (receives), in one shard per
// event loop so that loops never write the same cache line.
type Stats struct{ shards []shard }

type shard struct {
	bytes, msgs atomic.Int64
	_           [48]byte // pad to a cache line
}

// NewStats returns counters for an engine of loops event loops.
func NewStats(loops int) *Stats { return &Stats{shards: make([]shard, max(loops, 1))} }

// Totals returns the bytes and messages echoed so far.
func (st *Stats) Totals() (bytes, msgs int64) {
	for i := range st.shards {
		bytes += st.shards[i].bytes.Load()
		msgs += st.shards[i].msgs.Load()
	}
	return bytes, msgs
}

// ServeSocket starts echoing s.
func (h Handler) ServeSocket(s *socket.Socket) {
	c := &conn{s: s}
	if h.Stats != nil {
		c.shard = &h.Stats.shards[max(s.LoopID(), 0)%len(h.Stats.shards)]
	}
	c.onRecv = c.received
	c.onSent = c.sent
	if err := s.ReceiveLent(c.onRecv); err != nil {
		s.Close()
	}
}

type conn struct {
	s      *socket.Socket
	shard  *shard // nil: not counting
	out    [1][]byte
	onRecv socket.ReceiveLentFunc
	onSent socket.SendFunc
}

func (c *conn) received(p []byte, err error) {
	if err != nil {
		c.s.Close()
		return
	}
	if c.shard != nil {
		c.shard.bytes.Add(int64(len(p)))
		c.shard.msgs.Add(1)
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
