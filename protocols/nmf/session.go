// The session state machines: which record may come next, on the server
// and on the client, and what to send in reply.

package nmf

import (
	"bytes"
	"strings"
)

// ServerConfig says what a Server accepts.
type ServerConfig struct {
	// Singleton accepts singleton-unsized mode (streamed transfer) besides
	// duplex.
	Singleton bool
	// Encodings are the known encodings accepted (nil = Soap12UTF8 only).
	// The extensible encoding ContentTypeSoap12UTF8 is accepted as
	// Soap12UTF8.
	Encodings []Encoding
	// CheckVia, when set, is asked whether the via names an endpoint here;
	// false sends EndpointNotFound.
	CheckVia func(via string) bool
}

type sstate uint8

const (
	sVersion sstate = iota
	sMode
	sVia
	sEncoding
	sPreambleEnd
	sMessages  // between messages
	sInMessage // inside an envelope
	sAfterOne  // singleton: the message is read, End must follow
	sEnded     // the session is over
)

// Server checks the records a server receives, in order. Feed it every
// record the Decoder yields; it returns what the server must send now, and
// an error that ends the session. On an *Error with a Fault, send
// AppendFault(nil, err.Fault) and close.
type Server struct {
	cfg ServerConfig
	st  sstate
	// What the client's preamble chose.
	Mode     Mode
	Encoding Encoding
	Via      string
}

// NewServer returns a server state machine waiting for a preamble.
func NewServer(cfg ServerConfig) *Server { return &Server{cfg: cfg} }

// Ended reports whether the session is over (End exchanged, or an error).
func (s *Server) Ended() bool { return s.st == sEnded }

// Open reports whether the preamble is acknowledged and the session has not
// ended: messages may be sent.
func (s *Server) Open() bool { return s.st >= sMessages && s.st < sEnded }

// Receive validates r. It appends to out the records to send in reply (the
// PreambleAck after the PreambleEnd, the End after an End) and returns it.
func (s *Server) Receive(r *Record, out []byte) ([]byte, error) {
	if r.Kind == KindFault {
		s.st = sEnded
		return out, &FaultError{URI: string(r.Text)}
	}
	switch s.st {
	case sVersion:
		if r.Kind != KindVersion {
			return s.fail(out, FaultInvalidRecordSequence, "expected a Version record, got %v", r.Kind)
		}
		if r.Major != 1 || r.Minor != 0 {
			return s.fail(out, FaultUnsupportedVersion, "version %d.%d, only 1.0 is spoken", r.Major, r.Minor)
		}
		s.st = sMode
	case sMode:
		if r.Kind != KindMode {
			return s.fail(out, FaultInvalidRecordSequence, "expected a Mode record, got %v", r.Kind)
		}
		if r.Mode != ModeDuplex && !(r.Mode == ModeSingletonUnsized && s.cfg.Singleton) {
			return s.fail(out, FaultUnsupportedMode, "mode %v is not served", r.Mode)
		}
		s.Mode, s.st = r.Mode, sVia
	case sVia:
		if r.Kind != KindVia {
			return s.fail(out, FaultInvalidRecordSequence, "expected a Via record, got %v", r.Kind)
		}
		s.Via = string(r.Text)
		if s.cfg.CheckVia != nil && !s.cfg.CheckVia(s.Via) {
			return s.fail(out, FaultEndpointNotFound, "no endpoint at via %q", s.Via)
		}
		s.st = sEncoding
	case sEncoding:
		switch r.Kind {
		case KindKnownEncoding:
			if !s.accepts(r.Encoding) {
				return s.fail(out, FaultContentTypeInvalid, "known encoding %d is not served", r.Encoding)
			}
			s.Encoding = r.Encoding
		case KindExtensibleEncoding:
			if !s.accepts(EncodingSoap12UTF8) || !sameContentType(r.Text, ContentTypeSoap12UTF8) {
				return s.fail(out, FaultContentTypeInvalid, "content type %q is not served", r.Text)
			}
			s.Encoding = EncodingSoap12UTF8
		default:
			return s.fail(out, FaultInvalidRecordSequence, "expected an encoding record, got %v", r.Kind)
		}
		s.st = sPreambleEnd
	case sPreambleEnd:
		switch r.Kind {
		case KindPreambleEnd:
			s.st = sMessages
			return AppendPreambleAck(out), nil
		case KindUpgradeRequest:
			return s.fail(out, FaultUpgradeInvalid, "upgrade to %q refused: this endpoint serves security None", r.Text)
		}
		return s.fail(out, FaultInvalidRecordSequence, "expected PreambleEnd, got %v", r.Kind)
	case sMessages:
		switch r.Kind {
		case KindEnvelopeStart:
			if (s.Mode == ModeDuplex) != (r.Size >= 0) {
				return s.fail(out, FaultInvalidRecordSequence, "%v mode does not carry this envelope kind", s.Mode)
			}
			s.st = sInMessage
		case KindEnd:
			if s.Mode == ModeSingletonUnsized {
				return s.fail(out, FaultInvalidRecordSequence, "End before the message in singleton mode")
			}
			s.st = sEnded
			return AppendEnd(out), nil
		default:
			return s.fail(out, FaultInvalidRecordSequence, "expected an envelope or End, got %v", r.Kind)
		}
	case sInMessage:
		switch r.Kind {
		case KindEnvelopeData:
		case KindEnvelopeEnd:
			s.st = sMessages
			if s.Mode == ModeSingletonUnsized {
				s.st = sAfterOne
			}
		default:
			return s.fail(out, FaultInvalidRecordSequence, "%v inside an envelope", r.Kind)
		}
	case sAfterOne:
		if r.Kind != KindEnd {
			return s.fail(out, FaultInvalidRecordSequence, "expected End after the singleton message, got %v", r.Kind)
		}
		// The connection may carry a new preamble next (WCF pools it).
		s.st = sVersion
		return AppendEnd(out), nil
	case sEnded:
		return s.fail(out, FaultInvalidRecordSequence, "%v after the session ended", r.Kind)
	}
	return out, nil
}

// End appends the End record a server sends to close a session itself; the
// client answers with End.
func (s *Server) End(out []byte) []byte {
	s.st = sEnded
	return AppendEnd(out)
}

func (s *Server) accepts(e Encoding) bool {
	if s.cfg.Encodings == nil {
		return e == EncodingSoap12UTF8
	}
	for _, x := range s.cfg.Encodings {
		if x == e {
			return true
		}
	}
	return false
}

func (s *Server) fail(out []byte, fault, format string, args ...any) ([]byte, error) {
	s.st = sEnded
	return out, errorf(fault, format, args...)
}

// sameContentType compares content types ignoring case and spaces.
func sameContentType(got []byte, want string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }
	return norm(string(bytes.TrimSpace(got))) == norm(want)
}

type cstate uint8

const (
	cIdle cstate = iota
	cAwaitAck
	cOpen
	cInMessage
	cEnded
)

// Client checks the records a client receives after sending its preamble.
// The zero value is ready for Preamble.
type Client struct {
	st      cstate
	closing bool // we sent End: the server's End completes the session
}

// Preamble appends the client's preamble (duplex or singleton-unsized) and
// waits for the PreambleAck.
func (c *Client) Preamble(out []byte, m Mode, via string, e Encoding) []byte {
	c.st, c.closing = cAwaitAck, false
	return AppendPreamble(out, m, via, e)
}

// Open reports whether the server acknowledged the preamble and the
// session has not ended.
func (c *Client) Open() bool { return c.st == cOpen || c.st == cInMessage }

// Ended reports whether the session is over.
func (c *Client) Ended() bool { return c.st == cEnded }

// End appends the End record that closes the session; the server answers
// with End.
func (c *Client) End(out []byte) []byte {
	c.closing = true
	return AppendEnd(out)
}

// Receive validates a record from the server. A Fault is a *FaultError.
// When the server ends the session first, Receive appends to out the End
// the client must answer with.
func (c *Client) Receive(r *Record, out []byte) ([]byte, error) {
	if r.Kind == KindFault {
		c.st = cEnded
		return out, &FaultError{URI: string(r.Text)}
	}
	switch {
	case c.st == cAwaitAck && r.Kind == KindPreambleAck:
		c.st = cOpen
		return out, nil
	case c.st == cOpen && r.Kind == KindEnvelopeStart:
		c.st = cInMessage
		return out, nil
	case c.st == cOpen && r.Kind == KindEnd:
		c.st = cEnded
		if !c.closing {
			out = c.End(out)
		}
		return out, nil
	case c.st == cInMessage && r.Kind == KindEnvelopeData:
		return out, nil
	case c.st == cInMessage && r.Kind == KindEnvelopeEnd:
		c.st = cOpen
		return out, nil
	}
	st := c.st
	c.st = cEnded
	return out, errorf("", "unexpected %v from the server (client state %d)", r.Kind, st)
}
