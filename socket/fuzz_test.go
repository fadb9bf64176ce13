// A fuzz test of operation sequences: whatever the order of sends,
// receives, notifications, half-closes and closes on both ends, every
// accepted operation completes exactly once and received bytes are an
// in-order prefix of those sent.

package socket_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

func FuzzSocketOps(f *testing.F) {
	f.Add([]byte{0, 10, 1, 4, 0, 200, 1, 255, 5})
	f.Add([]byte{1, 1, 1, 1, 0, 3, 6, 0, 7})
	f.Add([]byte{3, 2, 0, 50, 4, 1, 20})
	e, err := engine.New(engine.Config{Loops: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 64 {
			prog = prog[:64]
		}
		a, b := pair(t, e, nil)
		var mu sync.Mutex
		var sent, got []byte
		pending := map[int]int{} // op id -> completions
		id := 0
		track := func() func() {
			id++
			n := id
			pending[n] = 0
			return func() { mu.Lock(); pending[n]++; mu.Unlock() }
		}
		for i := 0; i < len(prog); i++ {
			arg := 1
			if i+1 < len(prog) {
				arg = int(prog[i+1]) + 1
			}
			mu.Lock()
			switch prog[i] % 8 {
			case 0: // send arg bytes from a
				msg := bytes.Repeat([]byte{byte(len(sent))}, arg)
				done := track()
				// Two buffers; the second is empty when arg is 1, which
				// Send must reject with no callback.
				if a.Send([][]byte{msg[:arg/2+1], msg[arg/2+1:]}, func(error) { done() }) == nil {
					sent = append(sent, msg...)
				} else {
					delete(pending, id)
				}
				i++
			case 1: // receive up to arg bytes on b
				buf := make([]byte, arg)
				done := track()
				if b.Receive([][]byte{buf}, func(n int, err error) {
					mu.Lock()
					got = append(got, buf[:n]...)
					mu.Unlock()
					done()
				}) != nil {
					delete(pending, id)
				}
				i++
			case 2: // lent receive on b
				done := track()
				if b.ReceiveLent(func(p []byte, err error) {
					mu.Lock()
					got = append(got, p...)
					mu.Unlock()
					done()
				}) != nil {
					delete(pending, id)
				}
			case 3:
				done := track()
				if b.NotifyIO(socket.Readable, func(error) { done() }) != nil {
					delete(pending, id)
				}
			case 4:
				done := track()
				if a.NotifyIO(socket.Writable, func(error) { done() }) != nil {
					delete(pending, id)
				}
			case 5:
				a.CloseWrite()
			case 6:
				mu.Unlock()
				a.Close()
				mu.Lock()
			case 7:
				mu.Unlock()
				b.Close()
				mu.Lock()
			}
			mu.Unlock()
		}
		a.Close()
		b.Close()
		mu.Lock()
		defer mu.Unlock()
		for n, c := range pending {
			if c != 1 {
				t.Fatalf("operation %d completed %d times", n, c)
			}
		}
		if !bytes.HasPrefix(sent, got) {
			t.Fatalf("received %d bytes that are not a prefix of the %d sent", len(got), len(sent))
		}
	})
}
