// Package soap reads and writes SOAP 1.2 envelopes with WS-Addressing 1.0
// headers, streamed: the headers are read first, then the body is pulled
// element by element, each element decoded in memory bounded by the
// TokenReader's limits and a Heap, so a body of any length is read in
// constant memory. The XML encoding is a TokenReader: UTF-8 text here
// (TextReader), the binary encodings later, behind the same interface.
package soap

import (
	"errors"
	"fmt"
	"io"
)

// Namespaces and well-known URIs.
const (
	NSEnvelope   = "http://www.w3.org/2003/05/soap-envelope"
	NSEnvelope11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NSAddressing = "http://www.w3.org/2005/08/addressing"
	// Anonymous is the WS-Addressing address meaning "the back channel".
	Anonymous = NSAddressing + "/anonymous"
	// FaultAction is the action of fault messages with no declared one.
	FaultAction = NSAddressing + "/fault"
)

// Headers are the WS-Addressing headers of a message.
type Headers struct {
	Action    string
	To        string
	MessageID string
	RelatesTo string
	ReplyTo   string // the ReplyTo's Address
}

// Reader reads one envelope at a time from a TokenReader.
//
//	h, err := r.ReadStart()           // Envelope, Header, into Body
//	for {
//		t, ok, err := r.NextChild()  // each body element ...
//		if !ok { break }             // ... until </Body>
//		decode(r, t)                 // a generated decoder, or r.Skip()
//	}
//	err = r.ReadEnd()                // </Envelope> and the end of input
//
// Errors are *Fault for a well-formed envelope the reader refuses (the
// fault to send back) or *SyntaxError for malformed or over-limit XML.
type Reader struct {
	tok     TokenReader
	depth   int // open elements since the envelope's start
	Headers Headers
	scratch [64]byte
	strBuf  []byte
}

// NewReader returns a reader over tok.
func NewReader(tok TokenReader) *Reader { return &Reader{tok: tok} }

// Reset starts a new envelope from src.
func (r *Reader) Reset(src io.Reader) {
	r.tok.Reset(src)
	r.depth = 0
	r.Headers = Headers{}
}

// next returns the next token, counting depth.
func (r *Reader) next() (*Token, error) {
	t, err := r.tok.Next()
	if err != nil {
		if errors.Is(err, io.EOF) && r.depth > 0 {
			err = io.ErrUnexpectedEOF
		}
		return &noToken, err
	}
	switch t.Kind {
	case StartElement:
		r.depth++
	case EndElement:
		r.depth--
	}
	return t, nil
}

// ReadStart reads the envelope up to the start of the body's content and
// returns the headers. Headers that must be understood and are not
// WS-Addressing ones are a MustUnderstand fault.
func (r *Reader) ReadStart() (*Headers, error) {
	t, ok, err := r.NextChild()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Senderf("no envelope")
	}
	if t.Name.Is(NSEnvelope11, "Envelope") {
		return nil, &Fault{Code: CodeVersionMismatch, Reason: "SOAP 1.1 envelope; this endpoint speaks SOAP 1.2"}
	}
	if !t.Name.Is(NSEnvelope, "Envelope") {
		return nil, Senderf("root element {%s}%s is not a SOAP 1.2 Envelope", t.Name.Space, t.Name.Local)
	}
	t, ok, err = r.NextChild()
	if err != nil {
		return nil, err
	}
	if ok && t.Name.Is(NSEnvelope, "Header") {
		if err := r.readHeaders(); err != nil {
			return nil, err
		}
		t, ok, err = r.NextChild()
		if err != nil {
			return nil, err
		}
	}
	if !ok || !t.Name.Is(NSEnvelope, "Body") {
		return nil, Senderf("the envelope has no Body")
	}
	return &r.Headers, nil
}

func (r *Reader) readHeaders() error {
	for {
		t, ok, err := r.NextChild()
		if err != nil || !ok {
			return err
		}
		var dst *string
		if string(t.Name.Space) == NSAddressing {
			switch string(t.Name.Local) {
			case "Action":
				dst = &r.Headers.Action
			case "To":
				dst = &r.Headers.To
			case "MessageID":
				dst = &r.Headers.MessageID
			case "RelatesTo":
				dst = &r.Headers.RelatesTo
			case "ReplyTo":
				if err := r.readAddress(&r.Headers.ReplyTo); err != nil {
					return err
				}
				continue
			case "FaultTo", "From":
				if err := r.Skip(); err != nil {
					return err
				}
				continue
			}
		}
		if dst != nil {
			if *dst, err = r.ReadString(nil); err != nil {
				return err
			}
			continue
		}
		if v, ok := t.Attr(NSEnvelope, "mustUnderstand"); ok && (string(v) == "1" || string(v) == "true") {
			return &Fault{Code: CodeMustUnderstand, Reason: fmt.Sprintf("header {%s}%s is not understood", t.Name.Space, t.Name.Local)}
		}
		if err := r.Skip(); err != nil {
			return err
		}
	}
}

// readAddress reads an endpoint reference's Address into dst.
func (r *Reader) readAddress(dst *string) error {
	for {
		t, ok, err := r.NextChild()
		if err != nil || !ok {
			return err
		}
		if t.Name.Is(NSAddressing, "Address") {
			if *dst, err = r.ReadString(nil); err != nil {
				return err
			}
		} else if err := r.Skip(); err != nil {
			return err
		}
	}
}

// noToken is what a failed read returns: never nil, so callers may look
// at it.
var noToken Token

// NextChild returns the next child element's start of the element last
// started, skipping whitespace; ok is false at that element's end, which it
// consumes. Text other than whitespace between elements is a fault. The
// token is valid until the next read.
func (r *Reader) NextChild() (*Token, bool, error) {
	for {
		t, err := r.next()
		if err != nil {
			return t, false, err
		}
		switch t.Kind {
		case StartElement:
			return t, true, nil
		case EndElement:
			return t, false, nil
		case Text:
			if !isSpace(t.Text) {
				return t, false, Senderf("unexpected text %q", truncate(t.Text))
			}
		}
	}
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// Skip consumes the rest of the element last started, whatever it holds.
func (r *Reader) Skip() error {
	for level := 1; level > 0; {
		t, err := r.next()
		if err != nil {
			return err
		}
		switch t.Kind {
		case StartElement:
			level++
		case EndElement:
			level--
		}
	}
	return nil
}

// readText passes each piece of the text content of the element last
// started to add, and consumes its end. A child element is a fault.
func (r *Reader) readText(add func([]byte) error) error {
	for {
		t, err := r.next()
		if err != nil {
			return err
		}
		switch t.Kind {
		case Text:
			if err := add(t.Text); err != nil {
				return err
			}
		case EndElement:
			return nil
		case StartElement:
			return Senderf("element <%s> inside a simple value", t.Name.Local)
		}
	}
}

// ReadString reads the text content of the element last started and
// consumes its end. With a Heap the string lives in it (valid until its
// Reset; ErrQuotaExceeded when full); with nil it is allocated, and may be
// at most DefaultMaxToken (1024) bytes.
func (r *Reader) ReadString(h *Heap) (string, error) {
	if h != nil {
		mark := len(h.buf)
		if err := r.readText(h.add); err != nil {
			h.buf = h.buf[:mark]
			return "", err
		}
		return h.since(mark), nil
	}
	r.strBuf = r.strBuf[:0]
	err := r.readText(func(b []byte) error {
		if len(r.strBuf)+len(b) > DefaultMaxToken {
			return ErrQuotaExceeded
		}
		r.strBuf = append(r.strBuf, b...)
		return nil
	})
	if err != nil {
		return "", err
	}
	return string(r.strBuf), nil
}

// readSmall reads a short simple value (a number) into the scratch buffer.
func (r *Reader) readSmall() ([]byte, error) {
	n := 0
	err := r.readText(func(b []byte) error {
		if n+len(b) > len(r.scratch) {
			return Senderf("value too long for a number")
		}
		n += copy(r.scratch[n:], b)
		return nil
	})
	return trimSpace(r.scratch[:n]), err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpaceByte(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpaceByte(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// ReadInt reads an xsd integer of the given bit size (8, 16, 32, 64) and
// consumes the element's end.
func (r *Reader) ReadInt(bits int) (int64, error) {
	b, err := r.readSmall()
	if err != nil {
		return 0, err
	}
	orig, neg := b, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	u, ok := parseDigits(b)
	lim := uint64(1) << (bits - 1)
	if !ok || (!neg && u >= lim) || (neg && u > lim) {
		return 0, Senderf("%q is not an int%d", orig, bits)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// ReadUint reads an xsd unsigned integer of the given bit size.
func (r *Reader) ReadUint(bits int) (uint64, error) {
	b, err := r.readSmall()
	if err != nil {
		return 0, err
	}
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	u, ok := parseDigits(b)
	if !ok || (bits < 64 && u >= uint64(1)<<bits) {
		return 0, Senderf("%q is not an unsigned int%d", b, bits)
	}
	return u, nil
}

// ReadBool reads an xsd boolean.
func (r *Reader) ReadBool() (bool, error) {
	b, err := r.readSmall()
	if err != nil {
		return false, err
	}
	switch string(b) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, Senderf("%q is not a boolean", b)
}

func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// ReadEnd consumes the rest of the envelope, skipping what is left of the
// body, and checks that the input ends there.
func (r *Reader) ReadEnd() error {
	for r.depth > 0 {
		_, ok, err := r.NextChild()
		if err != nil {
			return err
		}
		if ok {
			if err := r.Skip(); err != nil {
				return err
			}
		}
	}
	_, err := r.tok.Next()
	if err == io.EOF {
		return nil
	}
	if err == nil {
		return Senderf("content after the envelope")
	}
	return err
}
