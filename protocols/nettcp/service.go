// The service layer: messages dispatched by Action to handlers, replies
// related to their requests, faults for what cannot be served.

package nettcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/overlap-go/overlap/protocols/nbfx"
	"github.com/overlap-go/overlap/protocols/soap"
)

// Reply is a handler's answer to a request.
type Reply struct {
	// Action is the reply's WS-Addressing action.
	Action string
	// Body appends the reply's body content (nil for none).
	Body func([]byte) []byte
}

// HandlerFunc serves one message, whose body it pulls from m.Body. A
// request (a message with a MessageID) gets the returned Reply, related to
// it; a one-way message's Reply is ignored. A *soap.Fault error, or an
// error with a SOAPFault() *soap.Fault method (a generated declared fault),
// is sent back as that fault and the session goes on; any other error is
// sent as a Receiver fault and ends the session.
type HandlerFunc func(ctx context.Context, m *Message) (*Reply, error)

// Service dispatches messages by Action.
type Service struct {
	ops map[string]HandlerFunc
	// Logger receives per-session errors (nil = slog.Default()).
	Logger *slog.Logger
}

// NewService returns a service with no operations.
func NewService() *Service { return &Service{ops: map[string]HandlerFunc{}} }

// Handle registers h for messages with the given action.
func (s *Service) Handle(action string, h HandlerFunc) { s.ops[action] = h }

// Serve runs a session until the peer ends it or it fails. An unknown
// action gets the ActionNotSupported fault and the session goes on; a
// malformed message (bad XML, an element over the cap, a refused header)
// gets a Sender fault and ends the session; a framing error has already
// been sent as a framing fault when it ends it. It returns nil when the
// peer ended the session cleanly.
func (s *Service) Serve(ctx context.Context, ch *Channel) error {
	for {
		m, err := ch.ReadMessageStart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.messageFailed(ch, m, err)
		}
		h := s.ops[m.Headers.Action]
		if h == nil {
			if err := ch.ReadMessageEnd(m); err != nil {
				return s.messageFailed(ch, m, err)
			}
			if err := ch.WriteFault(soap.ActionNotSupported(m.Headers.Action), m.Headers.MessageID); err != nil {
				return err
			}
			continue
		}
		reply, err := h(ctx, m)
		if err == nil {
			err = ch.ReadMessageEnd(m)
		}
		var f *soap.Fault
		var declared interface{ SOAPFault() *soap.Fault }
		if errors.As(err, &declared) {
			err = declared.SOAPFault()
		}
		switch {
		case err == nil:
			if reply != nil && m.Headers.MessageID != "" {
				err = ch.WriteMessage(&soap.Headers{Action: reply.Action, RelatesTo: m.Headers.MessageID}, reply.Body)
				if err != nil {
					return err
				}
			}
		case errors.As(err, &f):
			// A declared fault, or a value the handler refused: the
			// session goes on if the rest of the message reads.
			if err := ch.ReadMessageEnd(m); err != nil {
				return s.messageFailed(ch, m, err)
			}
			if err := ch.WriteFault(f, m.Headers.MessageID); err != nil {
				return err
			}
		default:
			return s.messageFailed(ch, m, err)
		}
	}
}

// messageFailed reports a message that could not be read or served: the
// peer gets a fault (when the framing still stands) and the session ends.
func (s *Service) messageFailed(ch *Channel, m *Message, err error) error {
	if ch.err == nil {
		f := faultFor(err)
		relates := ""
		if m != nil {
			relates = m.Body.Headers.MessageID // as far as it was read
		}
		ch.WriteFault(f, relates)
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Debug("net.tcp session failed", "via", ch.Via, "err", err)
	ch.Close()
	return err
}

// faultFor maps an error reading or serving a message to the SOAP fault
// the peer is told.
func faultFor(err error) *soap.Fault {
	var f *soap.Fault
	var se *soap.SyntaxError
	var be *nbfx.Error
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, soap.ErrTokenTooLarge), errors.Is(err, soap.ErrQuotaExceeded), errors.Is(err, soap.ErrTooDeep):
		return &soap.Fault{Code: soap.CodeSender, Subcode: "QuotaExceeded", SubcodeSpace: "http://schemas.microsoft.com/ws/2005/05/envelope/none",
			Reason: "The message is over a size quota: " + err.Error()}
	case errors.As(err, &se):
		return soap.Senderf("The message is not well-formed XML: %v", err)
	case errors.Is(err, errBadTable):
		return soap.Senderf("The message's string table cannot be applied: %v", err)
	case errors.As(err, &be):
		return soap.Senderf("The message is not well-formed binary XML: %v", err)
	}
	return &soap.Fault{Code: soap.CodeReceiver, Reason: fmt.Sprintf("The service failed: %v", err)}
}

// Request sends a request (a fresh MessageID, ReplyTo anonymous) and reads
// the reply's start; the caller pulls its body and calls ReadMessageEnd. A
// fault reply is a message like any other: its first body element is
// {soap.NSEnvelope}Fault, read with m.Body.ReadFault.
func (ch *Channel) Request(h *soap.Headers, body func([]byte) []byte) (*Message, error) {
	req := *h
	req.MessageID = newMessageID()
	if req.ReplyTo == "" {
		req.ReplyTo = soap.Anonymous
	}
	if req.To == "" {
		req.To = ch.Via
	}
	if err := ch.WriteMessage(&req, body); err != nil {
		return nil, err
	}
	m, err := ch.ReadMessageStart()
	if err != nil {
		return m, err
	}
	// Mono's WCF sends faults without RelatesTo: on a session, where
	// replies come in order, a missing one is taken as this request's.
	if m.Headers.RelatesTo != req.MessageID && m.Headers.RelatesTo != "" {
		return m, fmt.Errorf("nettcp: reply relates to %q, not to request %q", m.Headers.RelatesTo, req.MessageID)
	}
	return m, nil
}

// Send sends a one-way message, addressed to the channel's via unless h.To
// says otherwise.
func (ch *Channel) Send(h *soap.Headers, body func([]byte) []byte) error {
	if h.To == "" {
		hh := *h
		hh.To = ch.Via
		h = &hh
	}
	return ch.WriteMessage(h, body)
}
