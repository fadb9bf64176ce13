// The UTF-8 text XML encoding (MC-NMF known encoding 3) as a TokenReader:
// a pull tokenizer over a fixed buffer of Limits.MaxToken bytes, filled
// Limits.FillSize bytes at a time. Partial tokens are kept in the buffer,
// and a token that cannot fit is an error, so memory never depends on the
// document's length. DTDs are refused (SOAP forbids them, and they are the
// entity-expansion bombs).

package soap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// SyntaxError is malformed or over-limit input.
type SyntaxError struct {
	Offset int64 // input offset near the error
	Msg    string
	Err    error // ErrTokenTooLarge, ErrTooDeep, io.ErrUnexpectedEOF, a read error, or nil
}

func (e *SyntaxError) Error() string {
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("soap: xml at byte %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("soap: xml at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the cause.
func (e *SyntaxError) Unwrap() error { return e.Err }

const nsXML = "http://www.w3.org/XML/1998/namespace"

type span struct{ s, e int }

type openElem struct {
	qname    span // in names
	nsLen    int  // len(ns) before this element's declarations
	namesLen int  // len(names) before this element
}

type nsBind struct{ prefix, uri span }

type rawAttr struct{ qname, value []byte }

// TextReader reads UTF-8 text XML. Create it with NewTextReader.
type TextReader struct {
	lim        Limits
	src        io.Reader
	buf        []byte
	r, w       int
	off        int64 // input offset of buf[0]
	eof        bool
	err        error
	pendingEnd bool // the last start tag closed itself
	rootSeen   bool
	names      []byte // open element names and namespace bindings; fixed capacity
	elems      []openElem
	ns         []nsBind
	raw        []rawAttr
	attrs      []Attr
	tok        Token // what Next returns a pointer to
}

// NewTextReader returns a reader of src with the given limits.
func NewTextReader(src io.Reader, lim Limits) *TextReader {
	lim = lim.withDefaults()
	return &TextReader{
		lim:   lim,
		src:   src,
		buf:   make([]byte, lim.MaxToken),
		names: make([]byte, 0, lim.MaxNames),
	}
}

// Reset starts reading a new document from src.
func (x *TextReader) Reset(src io.Reader) {
	*x = TextReader{
		lim: x.lim, src: src, buf: x.buf, names: x.names[:0],
		elems: x.elems[:0], ns: x.ns[:0], raw: x.raw[:0], attrs: x.attrs[:0],
	}
}

// Depth returns the number of open elements.
func (x *TextReader) Depth() int { return len(x.elems) }

func (x *TextReader) syntax(format string, args ...any) error {
	return &SyntaxError{Offset: x.off + int64(x.r), Msg: fmt.Sprintf(format, args...)}
}

// Next returns the next token; see TokenReader.
func (x *TextReader) Next() (*Token, error) {
	if x.err != nil {
		return nil, x.err
	}
	if x.pendingEnd {
		x.pendingEnd = false
		x.tok = x.popEnd()
		return &x.tok, nil
	}
	for {
		tok, ok, err := x.scan()
		if err != nil {
			x.err = err
			return nil, err
		}
		if ok {
			x.tok = tok
			return &x.tok, nil
		}
		if x.eof {
			if len(x.elems) > 0 || !x.rootSeen || x.r < x.w {
				x.err = &SyntaxError{Offset: x.off + int64(x.w), Err: io.ErrUnexpectedEOF, Msg: "input ended inside the document"}
				return nil, x.err
			}
			x.err = io.EOF
			return nil, io.EOF
		}
		if err := x.fill(); err != nil {
			x.err = err
			return nil, err
		}
	}
}

// fill reads up to FillSize more bytes, first moving the unread bytes to the
// front of the buffer.
func (x *TextReader) fill() error {
	w, shifted, eof, err := Refill(x.src, x.buf, x.r, x.w, x.lim.FillSize)
	x.off += int64(shifted)
	x.r, x.w, x.eof = 0, w, x.eof || eof
	switch {
	case errors.Is(err, ErrBufferFull):
		return &SyntaxError{Offset: x.off, Err: ErrTokenTooLarge,
			Msg: fmt.Sprintf("a token is over the limit of %d bytes", len(x.buf))}
	case err != nil:
		return &SyntaxError{Offset: x.off + int64(x.w), Err: err, Msg: ReadErrorMessage(err)}
	}
	return nil
}

// ErrBufferFull is returned by Refill when the unread bytes fill the
// whole buffer: the token being read is over the reader's limit.
var ErrBufferFull = errors.New("soap: reader buffer full")

// Refill is the input step the XML readers share (the text reader here,
// the binary one in protocols/nbfx): it moves the unread bytes buf[r:w] to
// the front, then reads at most fill more bytes from src, retrying a read
// that returns nothing a bounded number of times. It returns the new end of
// data, how many bytes were shifted out (to add to the reader's offset),
// whether src has ended, and ErrBufferFull, a read error, or
// io.ErrNoProgress.
func Refill(src io.Reader, buf []byte, r, w, fill int) (nw, shifted int, eof bool, err error) {
	if r > 0 {
		copy(buf, buf[r:w])
		w -= r
	}
	if w == len(buf) {
		return w, r, false, ErrBufferFull
	}
	for range 100 {
		n, err := src.Read(buf[w:min(len(buf), w+fill)])
		w += n
		if errors.Is(err, io.EOF) {
			return w, r, true, nil
		}
		if err != nil {
			return w, r, false, err
		}
		if n > 0 {
			return w, r, false, nil
		}
	}
	return w, r, false, io.ErrNoProgress
}

// ReadErrorMessage describes an error from Refill for a reader's error.
func ReadErrorMessage(err error) string {
	if errors.Is(err, io.ErrNoProgress) {
		return "the input returns no data"
	}
	return "reading: " + err.Error()
}

var (
	bom        = []byte{0xEF, 0xBB, 0xBF}
	openCom    = []byte("<!--")
	closeCom   = []byte("-->")
	openCData  = []byte("<![CDATA[")
	closeCData = []byte("]]>")
	closePI    = []byte("?>")
)

// scan returns a complete token, or ok false when it needs more input.
func (x *TextReader) scan() (tok Token, ok bool, err error) {
	for {
		b := x.buf[x.r:x.w]
		if len(b) == 0 {
			return Token{}, false, nil
		}
		if x.off+int64(x.r) == 0 && b[0] == bom[0] {
			if len(b) < 3 && !x.eof {
				return Token{}, false, nil
			}
			if bytes.HasPrefix(b, bom) {
				x.r += 3
				continue
			}
		}
		if b[0] != '<' {
			i := bytes.IndexByte(b, '<')
			if i < 0 {
				if !x.eof {
					return Token{}, false, nil // the text may go on
				}
				i = len(b)
			}
			text := b[:i]
			if len(x.elems) == 0 {
				if !isSpace(text) {
					return Token{}, false, x.syntax("text outside the root element")
				}
				x.r += i
				continue
			}
			t, err := x.decode(text)
			if err != nil {
				return Token{}, false, err
			}
			x.r += i
			return Token{Kind: Text, Text: t}, true, nil
		}
		if len(b) < 2 {
			return Token{}, false, nil
		}
		switch b[1] {
		case '?':
			end := bytes.Index(b[2:], closePI)
			if end < 0 {
				return Token{}, false, nil
			}
			end += 2
			if err := x.checkDecl(b[2:end]); err != nil {
				return Token{}, false, err
			}
			x.r += end + 2
			continue
		case '!':
			if bytes.HasPrefix(b, openCom) {
				end := bytes.Index(b[4:], closeCom)
				if end < 0 {
					return Token{}, false, nil
				}
				x.r += 4 + end + 3
				continue
			}
			if bytes.HasPrefix(b, openCData) {
				if len(x.elems) == 0 {
					return Token{}, false, x.syntax("CDATA outside the root element")
				}
				end := bytes.Index(b[9:], closeCData)
				if end < 0 {
					return Token{}, false, nil
				}
				t := b[9 : 9+end]
				if !utf8.Valid(t) {
					return Token{}, false, x.syntax("CDATA is not UTF-8")
				}
				x.r += 9 + end + 3
				return Token{Kind: Text, Text: t}, true, nil
			}
			if len(b) < len(openCData) && (bytes.HasPrefix(openCom, b) || bytes.HasPrefix(openCData, b)) {
				return Token{}, false, nil
			}
			return Token{}, false, x.syntax("DTDs and declarations are not allowed")
		case '/':
			end := bytes.IndexByte(b, '>')
			if end < 0 {
				return Token{}, false, nil
			}
			name := b[2:end]
			for len(name) > 0 && isSpaceByte(name[len(name)-1]) {
				name = name[:len(name)-1]
			}
			tok, err := x.endElement(name)
			if err != nil {
				return Token{}, false, err
			}
			x.r += end + 1
			return tok, true, nil
		default:
			end := tagEnd(b)
			if end < 0 {
				return Token{}, false, nil
			}
			tok, err := x.startElement(b[1:end])
			if err != nil {
				return Token{}, false, err
			}
			x.r += end + 1
			return tok, true, nil
		}
	}
}

// tagEnd returns the index of the '>' closing the start tag at b[0], or -1.
func tagEnd(b []byte) int {
	var quote byte
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// checkDecl refuses an XML declaration naming an encoding other than UTF-8.
func (x *TextReader) checkDecl(pi []byte) error {
	if !bytes.HasPrefix(pi, []byte("xml")) || len(pi) > 3 && !isSpace(pi[3:4]) {
		return nil
	}
	i := bytes.Index(pi, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(pi[i+8:], " \t\r\n=")
	if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
		if j := bytes.IndexByte(rest[1:], rest[0]); j >= 0 {
			enc := rest[1 : 1+j]
			if !bytes.EqualFold(enc, []byte("utf-8")) {
				return x.syntax("encoding %q: only UTF-8 is read", enc)
			}
		}
	}
	return nil
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// validName accepts what XML names can be, loosely: no markup or space
// characters, at most one colon, not starting with a digit, '-' or '.'.
func validName(n []byte) bool {
	if len(n) == 0 || n[0] == '-' || n[0] == '.' || (n[0] >= '0' && n[0] <= '9') || n[0] == ':' || n[len(n)-1] == ':' {
		return false
	}
	colons, ascii := 0, true
	for _, c := range n {
		switch c {
		case ' ', '\t', '\r', '\n', '<', '>', '&', '=', '/', '"', '\'', '!', '?':
			return false
		case ':':
			colons++
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return colons <= 1 && (ascii || utf8.Valid(n))
}

func splitQName(q []byte) (prefix, local []byte) {
	if i := bytes.IndexByte(q, ':'); i >= 0 {
		return q[:i], q[i+1:]
	}
	return nil, q
}

func (x *TextReader) intern(b []byte) (span, error) {
	if len(x.names)+len(b) > cap(x.names) {
		return span{}, x.syntax("names and namespaces in scope over the limit of %d bytes", cap(x.names))
	}
	s := len(x.names)
	x.names = append(x.names, b...)
	return span{s, len(x.names)}, nil
}

func (x *TextReader) get(s span) []byte { return x.names[s.s:s.e] }

// lookup resolves a prefix to its namespace URI.
func (x *TextReader) lookup(prefix []byte) ([]byte, bool) {
	for i := len(x.ns) - 1; i >= 0; i-- {
		if bytes.Equal(x.get(x.ns[i].prefix), prefix) {
			return x.get(x.ns[i].uri), true
		}
	}
	if len(prefix) == 0 {
		return nil, true
	}
	if string(prefix) == "xml" {
		return []byte(nsXML), true
	}
	return nil, false
}

func (x *TextReader) startElement(raw []byte) (Token, error) {
	self := false
	if len(raw) > 0 && raw[len(raw)-1] == '/' {
		self, raw = true, raw[:len(raw)-1]
	}
	if len(x.elems) == 0 && x.rootSeen {
		return Token{}, x.syntax("a second root element")
	}
	if len(x.elems) >= x.lim.MaxDepth {
		return Token{}, &SyntaxError{Offset: x.off + int64(x.r), Err: ErrTooDeep,
			Msg: fmt.Sprintf("elements nested deeper than %d", x.lim.MaxDepth)}
	}
	i := 0
	for i < len(raw) && !isSpaceByte(raw[i]) {
		i++
	}
	qname := raw[:i]
	if !validName(qname) {
		return Token{}, x.syntax("bad element name %q", qname)
	}
	e := openElem{nsLen: len(x.ns), namesLen: len(x.names)}
	x.raw = x.raw[:0]
	for {
		for i < len(raw) && isSpaceByte(raw[i]) {
			i++
		}
		if i == len(raw) {
			break
		}
		s := i
		for i < len(raw) && raw[i] != '=' && !isSpaceByte(raw[i]) {
			i++
		}
		aname := raw[s:i]
		for i < len(raw) && isSpaceByte(raw[i]) {
			i++
		}
		if i == len(raw) || raw[i] != '=' || !validName(aname) {
			return Token{}, x.abandon(e, x.syntax("bad attribute in <%s>", qname))
		}
		i++
		for i < len(raw) && isSpaceByte(raw[i]) {
			i++
		}
		if i == len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return Token{}, x.abandon(e, x.syntax("unquoted attribute %s", aname))
		}
		q := raw[i]
		end := bytes.IndexByte(raw[i+1:], q)
		if end < 0 {
			return Token{}, x.abandon(e, x.syntax("unterminated attribute %s", aname))
		}
		val := raw[i+1 : i+1+end]
		i += end + 2
		if i < len(raw) && !isSpaceByte(raw[i]) {
			return Token{}, x.abandon(e, x.syntax("no space after attribute %s", aname))
		}
		if bytes.IndexByte(val, '<') >= 0 {
			return Token{}, x.abandon(e, x.syntax("'<' in attribute %s", aname))
		}
		val, err := x.decode(val)
		if err != nil {
			return Token{}, x.abandon(e, err)
		}
		switch {
		case string(aname) == "xmlns":
			err = x.bind(nil, val)
		case bytes.HasPrefix(aname, []byte("xmlns:")):
			if len(val) == 0 {
				err = x.syntax("empty namespace for prefix %s", aname[6:])
			} else {
				err = x.bind(aname[6:], val)
			}
		default:
			x.raw = append(x.raw, rawAttr{aname, val})
		}
		if err != nil {
			return Token{}, x.abandon(e, err)
		}
	}
	qs, err := x.intern(qname)
	if err != nil {
		return Token{}, x.abandon(e, err)
	}
	e.qname = qs
	prefix, local := splitQName(qname)
	space, ok := x.lookup(prefix)
	if !ok {
		return Token{}, x.abandon(e, x.syntax("unbound prefix %q", prefix))
	}
	x.attrs = x.attrs[:0]
	for _, a := range x.raw {
		p, l := splitQName(a.qname)
		var sp []byte
		if len(p) > 0 {
			if sp, ok = x.lookup(p); !ok {
				return Token{}, x.abandon(e, x.syntax("unbound prefix %q", p))
			}
		}
		x.attrs = append(x.attrs, Attr{Name: Name{Space: sp, Local: l}, Value: a.value})
	}
	x.elems = append(x.elems, e)
	x.rootSeen = true
	x.pendingEnd = self
	return Token{Kind: StartElement, Name: Name{Space: space, Local: local}, Attrs: x.attrs}, nil
}

// abandon undoes the namespace bindings of a start tag that failed.
func (x *TextReader) abandon(e openElem, err error) error {
	x.ns, x.names = x.ns[:e.nsLen], x.names[:e.namesLen]
	return err
}

func (x *TextReader) bind(prefix, uri []byte) error {
	p, err := x.intern(prefix)
	if err != nil {
		return err
	}
	u, err := x.intern(uri)
	if err != nil {
		return err
	}
	x.ns = append(x.ns, nsBind{p, u})
	return nil
}

func (x *TextReader) endElement(name []byte) (Token, error) {
	if len(x.elems) == 0 {
		return Token{}, x.syntax("end tag </%s> with no element open", name)
	}
	if top := x.elems[len(x.elems)-1]; !bytes.Equal(name, x.get(top.qname)) {
		return Token{}, x.syntax("end tag </%s> closes <%s>", name, x.get(top.qname))
	}
	return x.popEnd(), nil
}

// popEnd closes the innermost element. The token's names stay readable
// until the next call: popped bytes are only overwritten by a later push.
func (x *TextReader) popEnd() Token {
	top := x.elems[len(x.elems)-1]
	prefix, local := splitQName(x.get(top.qname))
	space, _ := x.lookup(prefix)
	x.elems = x.elems[:len(x.elems)-1]
	x.ns, x.names = x.ns[:top.nsLen], x.names[:top.namesLen]
	return Token{Kind: EndElement, Name: Name{Space: space, Local: local}}
}

// decode replaces entity and character references in b, in place (the
// result is never longer), and checks that the text is UTF-8.
func (x *TextReader) decode(b []byte) ([]byte, error) {
	amp := bytes.IndexByte(b, '&')
	if amp < 0 {
		if !utf8.Valid(b) {
			return nil, x.syntax("text is not UTF-8")
		}
		return b, nil
	}
	w := amp
	for i := amp; i < len(b); {
		c := b[i]
		if c != '&' {
			b[w] = c
			w++
			i++
			continue
		}
		semi := bytes.IndexByte(b[i:min(len(b), i+12)], ';')
		if semi < 0 {
			return nil, x.syntax("unterminated reference")
		}
		ref := b[i+1 : i+semi]
		i += semi + 1
		var r rune
		switch string(ref) {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "apos":
			r = '\''
		case "quot":
			r = '"'
		default:
			var ok bool
			if r, ok = charRef(ref); !ok {
				return nil, x.syntax("unknown reference &%s;", ref)
			}
		}
		w += utf8.EncodeRune(b[w:], r)
	}
	b = b[:w]
	if !utf8.Valid(b) {
		return nil, x.syntax("text is not UTF-8")
	}
	return b, nil
}

// charRef parses "#123" or "#x1F" into a character XML allows.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := rune(10), ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 {
		return 0, false
	}
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + d
		if r > utf8.MaxRune {
			return 0, false
		}
	}
	ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	return r, ok
}
