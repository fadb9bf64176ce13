// Benchmarks of the send and receive paths. Run with -benchmem: the echo
// hot path must show 0 allocs/op.

package socket_test

import (
	"testing"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/socket"
)

// echoPeer echoes with lent receives, like services/echo.
type echoPeer struct {
	s      *socket.Socket
	out    [1][]byte
	onRecv socket.ReceiveLentFunc
	onSent socket.SendFunc
}

func startEchoPeer(s *socket.Socket) {
	p := &echoPeer{s: s}
	p.onRecv = func(b []byte, err error) {
		if err != nil {
			return
		}
		p.out[0] = b
		s.Send(p.out[:], p.onSent)
	}
	p.onSent = func(err error) {
		if err == nil {
			s.ReceiveLent(p.onRecv)
		}
	}
	s.ReceiveLent(p.onRecv)
}

// pingPonger sends a message, waits for its echo, and repeats n times.
type pingPonger struct {
	s        *socket.Socket
	msg      [][]byte
	in       [][]byte
	got, n   int
	size     int
	left     int
	done     chan struct{}
	onSent   socket.SendFunc
	onRecv   socket.ReceiveFunc
	failures int
}

func newPingPonger(s *socket.Socket, size int) *pingPonger {
	p := &pingPonger{s: s, msg: [][]byte{make([]byte, size)}, in: [][]byte{make([]byte, size)}, size: size, done: make(chan struct{}, 1)}
	p.onSent = func(err error) {
		if err != nil {
			p.failures++
		}
	}
	p.onRecv = func(n int, err error) {
		if err != nil {
			p.failures++
			p.done <- struct{}{}
			return
		}
		p.got += n
		if p.got < p.size {
			p.s.Receive(p.in, p.onRecv)
			return
		}
		p.got = 0
		p.left--
		if p.left == 0 {
			p.done <- struct{}{}
			return
		}
		p.round()
	}
	return p
}

func (p *pingPonger) round() {
	p.s.Send(p.msg, p.onSent)
	p.s.Receive(p.in, p.onRecv)
}

func (p *pingPonger) run(n int) {
	p.left = n
	p.round()
	<-p.done
}

func benchPingPong(b *testing.B, cfg engine.Config, size int) {
	e := newEngine(b, cfg)
	client, server := pair(b, e, nil)
	startEchoPeer(server)
	p := newPingPonger(client, size)
	p.run(100) // warm the pools and queues
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	p.run(b.N)
	b.StopTimer()
	if p.failures > 0 {
		b.Fatalf("%d failures", p.failures)
	}
}

func BenchmarkPingPong64(b *testing.B)  { benchPingPong(b, engine.Config{Loops: 2}, 64) }
func BenchmarkPingPong16K(b *testing.B) { benchPingPong(b, engine.Config{Loops: 2}, 16<<10) }
func BenchmarkPingPong64OneLoop(b *testing.B) {
	benchPingPong(b, engine.Config{Loops: 1}, 64)
}
func BenchmarkPingPong64Workers(b *testing.B) {
	benchPingPong(b, engine.Config{Loops: 2, Workers: &engine.WorkerConfig{Min: 2, Max: 2}}, 64)
}
