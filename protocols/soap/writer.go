// Writing: envelopes are appended to a []byte, like every encoder in
// overlap. Generated code appends body elements between
// AppendEnvelopeStart and AppendEnvelopeEnd.

package soap

import (
	"strconv"
	"unicode/utf8"
)

// AppendEnvelopeStart appends the envelope's start, its WS-Addressing
// headers (the empty ones left out; Action and To marked mustUnderstand as
// WCF does) and the Body's start tag.
func AppendEnvelopeStart(b []byte, h *Headers) []byte {
	b = append(b, `<s:Envelope xmlns:s="`+NSEnvelope+`" xmlns:a="`+NSAddressing+`"><s:Header>`...)
	if h.Action != "" {
		b = append(b, `<a:Action s:mustUnderstand="1">`...)
		b = AppendText(b, h.Action)
		b = append(b, `</a:Action>`...)
	}
	if h.MessageID != "" {
		b = append(b, `<a:MessageID>`...)
		b = AppendText(b, h.MessageID)
		b = append(b, `</a:MessageID>`...)
	}
	if h.RelatesTo != "" {
		b = append(b, `<a:RelatesTo>`...)
		b = AppendText(b, h.RelatesTo)
		b = append(b, `</a:RelatesTo>`...)
	}
	if h.ReplyTo != "" {
		b = append(b, `<a:ReplyTo><a:Address>`...)
		b = AppendText(b, h.ReplyTo)
		b = append(b, `</a:Address></a:ReplyTo>`...)
	}
	if h.To != "" {
		b = append(b, `<a:To s:mustUnderstand="1">`...)
		b = AppendText(b, h.To)
		b = append(b, `</a:To>`...)
	}
	return append(b, `</s:Header><s:Body>`...)
}

// AppendEnvelopeEnd appends the end of the Body and of the envelope.
func AppendEnvelopeEnd(b []byte) []byte { return append(b, `</s:Body></s:Envelope>`...) }

// AppendText appends s escaped as element content. Characters XML cannot
// carry (controls, invalid UTF-8) become U+FFFD.
func AppendText(b []byte, s string) []byte { return appendEscaped(b, s, false) }

// AppendAttr appends s escaped as a double-quoted attribute value.
func AppendAttr(b []byte, s string) []byte { return appendEscaped(b, s, true) }

func appendEscaped(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch {
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '&':
			esc = "&amp;"
		case c == '"' && attr:
			esc = "&quot;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\n' && attr:
			esc = "&#xA;"
		case c == '\t' && attr:
			esc = "&#x9;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += size
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += size
		last = i
	}
	return append(b, s[last:]...)
}

// AppendInt appends an xsd integer.
func AppendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// AppendUint appends an xsd unsigned integer.
func AppendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// AppendBool appends an xsd boolean.
func AppendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }
