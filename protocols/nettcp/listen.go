// Server side: the preamble handshake on accepted sockets, a
// server.Handler for overlap's servers, and the seed-shaped Listener.

package nettcp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/socket"
)

// Accept runs the server side of the preamble on conn: it reads the
// client's preamble, refuses what this endpoint does not serve with the
// proper framing fault (wrong version, mode, encoding or via; a security
// upgrade), and acknowledges the rest. Known encodings 3 (UTF-8 text), 7
// (binary) and 8 (binary with in-band dictionary) are served; the channel
// reads and writes in the one the preamble chose. path is the endpoint's path; a via
// whose path differs gets EndpointNotFound.
func Accept(conn io.ReadWriteCloser, path string, cfg Config) (*Channel, error) {
	ch := newChannel(conn, cfg)
	ch.srv = nmf.NewServer(nmf.ServerConfig{
		Singleton: cfg.Singleton,
		Encodings: []nmf.Encoding{nmf.EncodingSoap12UTF8, nmf.EncodingSoap12Binary, nmf.EncodingSoap12BinarySess},
		CheckVia:  func(via string) bool { return viaPath(via) == path },
	})
	for !ch.srv.Open() {
		if _, err := ch.record(); err != nil {
			return nil, err
		}
	}
	ch.Via, ch.mode = ch.srv.Via, ch.srv.Mode
	ch.setEncoding(ch.srv.Encoding)
	return ch, nil
}

// viaPath returns the path of a via URI ("" if it does not parse).
func viaPath(via string) string {
	u, err := url.Parse(via)
	if err != nil {
		return ""
	}
	if u.EscapedPath() == "" {
		return "/"
	}
	return u.EscapedPath()
}

// Handler serves net.tcp sessions on overlap's server: for each accepted
// socket it runs the handshake and then Serve, on a goroutine of the
// session's own (the pull API blocks; the engine's loops never do).
type Handler struct {
	// Path is the endpoint path ("/example").
	Path string
	// Config tunes the channels.
	Config Config
	// IdleTimeout closes a session whose peer sends nothing for this long,
	// mid-message or between messages (0 = never).
	IdleTimeout time.Duration
	// Serve runs one session. The channel is closed when it returns.
	Serve func(ch *Channel)
	// Logger receives handshake failures (nil = slog.Default()).
	Logger *slog.Logger
}

// SocketOptions returns the socket options the handler needs its server to
// use (the idle timeout).
func (h *Handler) SocketOptions() *socket.Options {
	return &socket.Options{IdleTimeout: h.IdleTimeout}
}

// ServeSocket implements server.Handler.
func (h *Handler) ServeSocket(s *socket.Socket) {
	go func() {
		conn := newSockConn(s)
		ch, err := Accept(conn, h.Path, h.Config)
		if err != nil {
			log := h.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Debug("net.tcp handshake failed", "remote", s.RemoteAddr(), "err", err)
			conn.Close()
			return
		}
		h.Serve(ch)
		ch.Close()
	}()
}

// Listener is the seed's WS_LISTENER: it accepts sessions on a net.tcp URL.
type Listener struct {
	srv      *server.Server
	accepted chan *Channel
	done     chan struct{}
	once     sync.Once
}

// Listen listens on a net.tcp URL ("net.tcp://0.0.0.0:8808/example") on
// overlap's engine. Sessions whose preamble is refused never reach Accept.
func Listen(eng *engine.Engine, rawURL string, cfg Config) (*Listener, error) {
	addr, path, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	l := &Listener{accepted: make(chan *Channel), done: make(chan struct{})}
	h := &Handler{Path: path, Config: cfg, Serve: func(ch *Channel) {
		wait := make(chan struct{})
		ch.onClose = func() { close(wait) }
		select {
		case l.accepted <- ch:
			<-wait // the accepter owns the channel until it closes it
		case <-l.done:
		}
	}}
	l.srv = server.New(eng, server.Config{Name: "net.tcp", Addr: addr}, h)
	if err := l.srv.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.srv.Addr() }

// Accept waits for the next session whose preamble was acknowledged.
func (l *Listener) Accept(ctx context.Context) (*Channel, error) {
	select {
	case ch := <-l.accepted:
		return ch, nil
	case <-l.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops listening and closes every session.
func (l *Listener) Close(ctx context.Context) error {
	l.once.Do(func() { close(l.done) })
	return l.srv.Stop(ctx)
}

// Dial opens a client session to a net.tcp URL on overlap's engine: it
// connects, sends the preamble (duplex; UTF-8 SOAP 1.2 text, or binary
// with cfg.Binary) and waits for
// the acknowledgement. A framing fault from the server is an
// *nmf.FaultError.
func Dial(ctx context.Context, eng *engine.Engine, rawURL string, cfg Config) (*Channel, error) {
	addr, _, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	type dialed struct {
		s   *socket.Socket
		err error
	}
	res := make(chan dialed, 1)
	if err := socket.Dial(eng, addr, nil, func(s *socket.Socket, err error) { res <- dialed{s, err} }); err != nil {
		return nil, err
	}
	var d dialed
	select {
	case d = <-res:
	case <-ctx.Done():
		go func() {
			if d := <-res; d.s != nil {
				d.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if d.err != nil {
		return nil, d.err
	}
	return Connect(newSockConn(d.s), rawURL, cfg)
}

// Connect runs the client side of the preamble on conn (any byte stream,
// for example a net.Conn) for the endpoint URI via.
func Connect(conn io.ReadWriteCloser, via string, cfg Config) (*Channel, error) {
	ch := newChannel(conn, cfg)
	ch.cli = &nmf.Client{}
	ch.Via, ch.mode = via, nmf.ModeDuplex
	enc := nmf.EncodingSoap12UTF8
	if cfg.Binary {
		enc = nmf.EncodingSoap12BinarySess
	}
	ch.setEncoding(enc)
	if _, err := conn.Write(ch.cli.Preamble(nil, nmf.ModeDuplex, via, enc)); err != nil {
		conn.Close()
		return nil, err
	}
	for !ch.cli.Open() {
		if _, err := ch.record(); err != nil {
			return nil, fmt.Errorf("nettcp: connecting to %s: %w", via, err)
		}
	}
	return ch, nil
}
