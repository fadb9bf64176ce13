// Dialing: an overlap socket connected asynchronously, as a net.Conn.

package netconn

import (
	"context"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// Dial connects to addr on engine e and returns the connection as a Conn.
// If ctx ends first, Dial returns its error and the connection, when it
// completes, is closed.
func Dial(ctx context.Context, e *engine.Engine, addr string, opts *socket.Options) (*Conn, error) {
	ch := make(chan acceptResult, 1)
	if err := socket.Dial(e, addr, opts, func(s *socket.Socket, err error) { ch <- acceptResult{s, err} }); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return New(r.s), nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
