// Package nettcp is overlap's net.tcp channel: the seed's WWSAPI duplex
// session channel in Go. It joins the pure codecs (protocols/nmf for the
// framing, protocols/soap for the envelopes, protocols/nbfx for the binary
// encodings) to a byte stream, and adds the service layer that dispatches
// messages by Action.
//
// The API has the seed's shape, as blocking calls on one goroutine per
// channel (the engine still does all socket I/O):
//
//	l, _ := nettcp.Listen(eng, "net.tcp://0.0.0.0:8808/example", nettcp.Config{})
//	ch, _ := l.Accept(ctx)                 // WsAcceptChannel
//	for {
//		m, err := ch.ReadMessageStart()    // WsReadMessageStart; io.EOF = WS_S_END
//		for { t, ok, _ := m.Body.NextChild(); ... } // WsReadElement, 128-byte fills
//		ch.ReadMessageEnd(m)               // WsReadMessageEnd
//	}
//
// Errors say what happened to the channel: a *nmf.Error ended the session
// (the fault was sent to the peer and the connection closed); a
// *soap.Fault or *soap.SyntaxError is about one message.
package nettcp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/protocols/soap"
)

// DefaultPort is net.tcp's port when a URL names none.
const DefaultPort = "808"

// ParseURL splits a net.tcp URL into the address to dial or listen on and
// the endpoint path ("/example").
func ParseURL(raw string) (hostport, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "net.tcp" {
		return "", "", fmt.Errorf("nettcp: %q is not a net.tcp URL", raw)
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return host + ":" + port, path, nil
}

// Config tunes a channel. The zero value is the seed's: 1024-byte tokens
// and heaps, the XML reader filled 128 bytes at a time.
type Config struct {
	// Limits bound the XML reader (token size, fill size, depth).
	Limits soap.Limits
	// ReadSize is the size of each read from the connection (default
	// DefaultReadSize). The XML reader is filled from it Limits.FillSize
	// bytes at a time (128, the seed's WsFillReader); reading the socket
	// 128 bytes at a time would cost a system call and a wake-up per 128
	// bytes (a quarter of the throughput, measured).
	ReadSize int
	// MaxMessageSize bounds one message's bytes on the wire (0 = only the
	// framing's 2 GiB: bodies are streamed, so size costs no memory).
	MaxMessageSize int
	// Singleton accepts singleton-unsized mode (WCF's streamed transfer).
	Singleton bool
	// Binary makes a client ask for known encoding 8, binary XML with an
	// in-band dictionary (NetTcpBinding's default), instead of 3, UTF-8
	// text. Servers ignore it: they accept both, per connection.
	Binary bool
}

func (c Config) withDefaults() Config {
	if c.ReadSize <= 0 {
		c.ReadSize = DefaultReadSize
	}
	return c
}

// DefaultReadSize is the default size of a channel's socket reads: the
// memory a session holds besides its XML reader's.
const DefaultReadSize = 16 << 10

// ErrClosed is returned by operations on a closed channel.
var ErrClosed = errors.New("nettcp: channel closed")

// Channel is one net.tcp session, server or client side. Read from one
// goroutine; writes are serialized.
type Channel struct {
	conn io.ReadWriteCloser
	cfg  Config

	rbuf    []byte
	rp, rw  int
	dec     nmf.Decoder
	srv     *nmf.Server // server side
	cli     *nmf.Client // client side
	mode    nmf.Mode
	enc     nmf.Encoding // the preamble's
	bin     *binEnc      // encoding 7 or 8's state, or nil for text
	pending []byte       // envelope data not yet handed to the XML reader
	inEnv   bool         // inside an envelope on the wire
	msg     Message
	body    envReader
	err     error // sticky: the session is over

	wmu  sync.Mutex
	wbuf []byte

	onClose func() // Listener: the accepter is done with the channel

	// Via is the endpoint URI of the session (the client's preamble).
	Via string
}

// Message is a message being read: its headers, and its body to pull
// element by element.
type Message struct {
	Headers *soap.Headers
	// Body is positioned inside the SOAP Body: pull elements with
	// NextChild and a generated decoder, or Skip them.
	Body *soap.Reader
	ch   *Channel
	done bool
}

// envReader is the current envelope's payload as an io.Reader: it ends with
// io.EOF at the envelope's end.
type envReader struct{ ch *Channel }

func (e envReader) Read(p []byte) (int, error) { return e.ch.readEnvelope(p) }

func newChannel(conn io.ReadWriteCloser, cfg Config) *Channel {
	cfg = cfg.withDefaults()
	ch := &Channel{conn: conn, cfg: cfg, rbuf: make([]byte, cfg.ReadSize)}
	ch.dec.MaxEnvelope = cfg.MaxMessageSize
	ch.body = envReader{ch}
	ch.msg.Body = soap.NewReader(soap.NewTextReader(nil, cfg.Limits))
	ch.msg.ch = ch
	return ch
}

// fill reads more bytes from the connection into rbuf.
func (ch *Channel) fill() error {
	n, err := ch.conn.Read(ch.rbuf)
	ch.rp, ch.rw = 0, n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	if errors.Is(err, io.EOF) {
		if ferr := ch.dec.Finish(); ferr != nil {
			return ferr // the stream ended inside a record
		}
		if ch.open() {
			return io.ErrUnexpectedEOF // no End record
		}
	}
	return err
}

func (ch *Channel) open() bool {
	if ch.srv != nil {
		return ch.srv.Open()
	}
	return ch.cli.Open()
}

// record returns the next framing record, after checking it against the
// session's state machine and sending what that calls for (the preamble
// ack, the End in reply). A framing error ends the session: the fault is
// sent to the peer and the connection closed.
func (ch *Channel) record() (nmf.Record, error) {
	if ch.err != nil {
		return nmf.Record{}, ch.err
	}
	for {
		r, n, err := ch.dec.Next(ch.rbuf[ch.rp:ch.rw])
		ch.rp += n
		if err == nil && r.Kind == nmf.KindNone {
			if err = ch.fill(); err == nil {
				continue
			}
		}
		if err == nil {
			var out []byte
			ch.wmu.Lock()
			if ch.srv != nil {
				out, err = ch.srv.Receive(&r, ch.wbuf[:0])
			} else {
				out, err = ch.cli.Receive(&r, ch.wbuf[:0])
			}
			if len(out) > 0 {
				if _, werr := ch.conn.Write(out); werr != nil && err == nil {
					err = werr
				}
			}
			ch.wbuf = out[:0]
			ch.wmu.Unlock()
		}
		if err != nil {
			return nmf.Record{}, ch.fail(err)
		}
		return r, nil
	}
}

// fail ends the session with err: a framing error's fault is sent to the
// peer first (server side), then the connection is closed.
func (ch *Channel) fail(err error) error {
	if ch.err != nil {
		return ch.err
	}
	var fe *nmf.Error
	if errors.As(err, &fe) && fe.Fault != "" && ch.srv != nil {
		ch.wmu.Lock()
		ch.conn.Write(nmf.AppendFault(nil, fe.Fault))
		ch.wmu.Unlock()
	}
	ch.err = err
	ch.closeConn()
	return err
}

// maxDrain bounds what a server reads and discards after refusing a
// client, before closing.
const maxDrain = 256 << 10

// closeConn closes the connection. A server that ends a session early
// first shuts its sending side and reads what the client is still sending
// (up to maxDrain): closing with unread input makes the kernel send a reset,
// which can destroy the fault in flight before the client reads it.
func (ch *Channel) closeConn() error {
	if cw, ok := ch.conn.(interface{ CloseWrite() error }); ok && ch.srv != nil {
		if cw.CloseWrite() == nil {
			for n := 0; n < maxDrain; {
				m, err := ch.conn.Read(ch.rbuf)
				n += m
				if err != nil {
					break
				}
			}
		}
	}
	return ch.conn.Close()
}

// readEnvelope copies the current envelope's payload into p.
func (ch *Channel) readEnvelope(p []byte) (int, error) {
	for len(ch.pending) == 0 {
		if !ch.inEnv {
			return 0, io.EOF
		}
		r, err := ch.record()
		if err != nil {
			return 0, err
		}
		switch r.Kind {
		case nmf.KindEnvelopeData:
			ch.pending = r.Data
		case nmf.KindEnvelopeEnd:
			ch.inEnv = false
			return 0, io.EOF
		}
	}
	n := copy(p, ch.pending)
	ch.pending = ch.pending[n:]
	return n, nil
}

// ReadMessageStart reads the next message's headers and leaves its body to
// be pulled from m.Body. It returns io.EOF when the peer ended the session
// cleanly (the seed's WS_S_END); the End reply has been sent. The previous
// message, if unfinished, is skipped first.
func (ch *Channel) ReadMessageStart() (*Message, error) {
	if ch.bin != nil && ch.bin.broken != nil {
		return nil, ch.fail(ch.bin.broken)
	}
	if ch.inEnv {
		if err := ch.skipEnvelope(); err != nil {
			return nil, err
		}
	}
	r, err := ch.record()
	if err != nil {
		return nil, err
	}
	switch r.Kind {
	case nmf.KindEnd:
		ch.err = io.EOF
		ch.closeConn()
		return nil, io.EOF
	case nmf.KindEnvelopeStart:
	default:
		return nil, ch.fail(fmt.Errorf("nettcp: unexpected %v between messages", r.Kind))
	}
	ch.inEnv, ch.pending = true, nil
	if ch.bin != nil && ch.bin.in != nil {
		if err := ch.readTable(); err != nil {
			// The message's error: the peer may be told (a Sender
			// fault); the session cannot go on.
			ch.bin.broken = err
			return nil, err
		}
	}
	m := &ch.msg
	m.done = false
	m.Body.Reset(ch.body)
	if m.Headers, err = m.Body.ReadStart(); err != nil {
		return m, err
	}
	return m, nil
}

// skipEnvelope discards the rest of the current envelope's payload.
func (ch *Channel) skipEnvelope() error {
	ch.pending = nil
	for ch.inEnv {
		r, err := ch.record()
		if err != nil {
			return err
		}
		if r.Kind == nmf.KindEnvelopeEnd {
			ch.inEnv = false
		}
	}
	return nil
}

// ReadMessageEnd finishes the message: the rest of its body is skipped and
// the envelope's end checked.
func (ch *Channel) ReadMessageEnd(m *Message) error {
	if m.done {
		return nil
	}
	m.done = true
	if err := m.Body.ReadEnd(); err != nil {
		return err
	}
	return ch.skipEnvelope()
}

// WriteMessage sends one message: the envelope with headers h, and the body
// content body appends (nil for an empty body).
func (ch *Channel) WriteMessage(h *soap.Headers, body func([]byte) []byte) error {
	ch.wmu.Lock()
	defer ch.wmu.Unlock()
	if ch.err != nil {
		return ch.err
	}
	// Leave room for the record header, written once the size is known,
	// so the whole message goes out in one write with no copy.
	const room = 1 + 5
	b := append(ch.wbuf[:0], make([]byte, room)...)
	if ch.bin == nil {
		b = soap.AppendEnvelopeStart(b, h)
		if body != nil {
			b = body(b)
		}
		b = soap.AppendEnvelopeEnd(b)
	} else {
		t := soap.AppendEnvelopeStart(ch.bin.text[:0], h)
		if body != nil {
			t = body(t)
		}
		t = soap.AppendEnvelopeEnd(t)
		ch.bin.text = t[:0]
		var err error
		if b, err = ch.bin.appendBinary(b, t); err != nil {
			ch.wbuf = b[:0]
			return fmt.Errorf("nettcp: encoding the message in binary: %w", err)
		}
	}
	n := len(b) - room
	var out []byte
	if ch.mode == nmf.ModeSingletonUnsized {
		hdr := nmf.AppendSize([]byte{byte(nmf.RecUnsizedEnvelope)}, n)
		out = b[room-len(hdr):]
		copy(out, hdr)
		out = nmf.AppendUnsizedEnvelopeEnd(out)
		b = out
	} else {
		hl := 1 + nmf.SizeLen(n)
		out = b[room-hl:]
		nmf.AppendSizedEnvelopeHeader(out[:0], n)
	}
	_, err := ch.conn.Write(out)
	ch.wbuf = b[:0]
	if err != nil {
		ch.err = err
		ch.conn.Close()
	}
	return err
}

// WriteFault sends a fault message; relatesTo is the request's MessageID
// (empty for none).
func (ch *Channel) WriteFault(f *soap.Fault, relatesTo string) error {
	action := f.Action
	if action == "" {
		action = soap.FaultAction
	}
	return ch.WriteMessage(&soap.Headers{Action: action, RelatesTo: relatesTo}, func(b []byte) []byte {
		return soap.AppendFault(b, f)
	})
}

// Close ends the session: the client sends End and waits for the server's;
// the server sends End if the session is still open. The connection is
// closed in every case.
func (ch *Channel) Close() error {
	if f := ch.onClose; f != nil {
		ch.onClose = nil
		defer f()
	}
	if ch.err != nil {
		return ch.conn.Close()
	}
	ch.wmu.Lock()
	var end []byte
	if ch.srv != nil {
		if ch.srv.Open() {
			end = ch.srv.End(nil)
		}
	} else if ch.cli.Open() {
		end = ch.cli.End(nil)
	}
	if end != nil {
		ch.conn.Write(end)
	}
	ch.wmu.Unlock()
	if ch.cli != nil && end != nil {
		// Wait for the server's End, skipping what is still in flight.
		for i := 0; i < 1<<20; i++ {
			if _, err := ch.record(); err != nil || ch.cli.Ended() {
				break
			}
		}
	}
	ch.err = ErrClosed
	return ch.closeConn()
}

// newMessageID returns a fresh urn:uuid (random, version 4).
func newMessageID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
