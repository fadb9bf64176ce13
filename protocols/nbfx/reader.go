// The binary XML reader: [MC-NBFX] records pulled as soap.Tokens, through a
// fixed buffer of Limits.MaxToken bytes filled Limits.FillSize bytes at a
// time, like soap.TextReader. A start element and all its attribute records
// must fit in the buffer, as must one text record; a record that cannot is
// soap.ErrTokenTooLarge, so memory never depends on the document's length
// or on the lengths the records claim.

package nbfx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/overlap-go/overlap/protocols/soap"
)

// Config configures a Reader. The zero value reads with the default limits
// and the static dictionary.
type Config struct {
	Limits soap.Limits
	// Dictionary resolves DictionaryString ids: StaticDictionary when nil,
	// or a *Session for encoding 8.
	Dictionary Dictionary
	// Location is the zone DateTime values of kind Local are read in (they
	// carry UTC ticks and read as that instant there, with its offset, as
	// .NET reads them in its own zone); time.Local when nil.
	Location *time.Location
	// Fragments allows several top-level elements, as in the examples of
	// [MC-NBFX] section 3; a document has one.
	Fragments bool
}

type span struct{ s, e int }

type openElem struct {
	prefix, local span // in names
	nsLen         int  // len(ns) before this element's declarations
	namesLen      int  // len(names) before this element
}

type nsBind struct{ prefix, uri span }

type rawAttr struct{ prefix, local, value []byte }

// Array expansion: an Array record reads as one element per value.
const (
	arrNone = iota
	arrText // the start was returned; the value comes next
	arrEnd  // the value was returned; the end comes next
	arrStart
)

// Reader reads binary XML ([MC-NBFX]) as soap.Tokens; it implements
// soap.TokenReader. Create it with NewReader.
type Reader struct {
	lim        soap.Limits
	dict       Dictionary
	loc        *time.Location
	fragments  bool
	src        io.Reader
	buf        []byte
	r, w       int
	off        int64 // input offset of buf[0]
	eof        bool
	err        error
	pendingEnd bool // a ...WithEndElement text was returned
	rootSeen   bool
	names      []byte // open element names and namespace bindings; fixed capacity
	vals       []byte // the current token's decoded values; fixed capacity
	elems      []openElem
	ns         []nsBind
	raw        []rawAttr
	attrs      []soap.Attr
	tok        soap.Token

	arr      []byte // an Array record's element and attribute records, fixed capacity
	arrState int
	arrType  byte
	arrLeft  int
}

// NewReader returns a reader of src.
func NewReader(src io.Reader, cfg Config) *Reader {
	lim := cfg.Limits
	if lim.MaxToken <= 0 {
		lim.MaxToken = soap.DefaultMaxToken
	}
	if lim.FillSize <= 0 {
		lim.FillSize = soap.DefaultFillSize
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = soap.DefaultMaxDepth
	}
	if lim.MaxNames <= 0 {
		lim.MaxNames = soap.DefaultMaxNames
	}
	if cfg.Dictionary == nil {
		cfg.Dictionary = StaticDictionary{}
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	return &Reader{
		lim: lim, dict: cfg.Dictionary, loc: cfg.Location, fragments: cfg.Fragments, src: src,
		buf:   make([]byte, lim.MaxToken),
		names: make([]byte, 0, lim.MaxNames),
		// Values expand: base64 by 4/3, UTF-16 to UTF-8 by 3/2, a
		// two-byte dictionary reference to a long string. Bound them.
		vals: make([]byte, 0, 4*lim.MaxToken),
		arr:  make([]byte, 0, lim.MaxToken),
	}
}

// Reset starts reading a new document from src, keeping the buffers, the
// limits and the dictionary.
func (x *Reader) Reset(src io.Reader) {
	*x = Reader{
		lim: x.lim, dict: x.dict, loc: x.loc, fragments: x.fragments, src: src, buf: x.buf,
		names: x.names[:0], vals: x.vals[:0], elems: x.elems[:0], ns: x.ns[:0],
		raw: x.raw[:0], attrs: x.attrs[:0], arr: x.arr[:0],
	}
}

// SetDictionary changes the dictionary, for the next document (a new
// session's table, say).
func (x *Reader) SetDictionary(d Dictionary) {
	if d == nil {
		d = StaticDictionary{}
	}
	x.dict = d
}

// Depth returns the number of open elements.
func (x *Reader) Depth() int { return len(x.elems) }

// cur walks records in p; off is p[0]'s input offset. final says no more
// bytes follow p, so the end of p ends a start element's attributes.
type cur struct {
	p     []byte
	i     int
	off   int64
	final bool
	max   int // the longest record the buffer can hold
}

func (c *cur) fail(format string, args ...any) error {
	return &Error{Offset: c.off + int64(c.i), Msg: fmt.Sprintf(format, args...)}
}

func (c *cur) u8() (byte, error) {
	if c.i >= len(c.p) {
		return 0, errShort
	}
	c.i++
	return c.p[c.i-1], nil
}

func (c *cur) take(n int) ([]byte, error) {
	if n > c.max {
		return nil, &Error{Offset: c.off + int64(c.i), Err: soap.ErrTokenTooLarge,
			Msg: fmt.Sprintf("a record of %d bytes is over the limit of %d", n, c.max)}
	}
	if len(c.p)-c.i < n {
		return nil, errShort
	}
	c.i += n
	return c.p[c.i-n : c.i], nil
}

func (c *cur) int31() (int, error) {
	if c.i >= len(c.p) {
		return 0, errShort
	}
	v, n, err := decodeInt31(c.p[c.i:])
	if err == errShort {
		return 0, err
	}
	if err != nil {
		return 0, c.fail("%v", err)
	}
	c.i += n
	return v, nil
}

// str reads a String: a MultiByteInt31 length and that many bytes of UTF-8.
func (c *cur) str() ([]byte, error) {
	at := c.i
	n, err := c.int31()
	if err != nil {
		return nil, err
	}
	s, err := c.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(s) {
		c.i = at
		return nil, c.fail("string is not UTF-8")
	}
	return s, nil
}

// dictString reads a DictionaryString and copies its characters into vals.
func (x *Reader) dictString(c *cur) ([]byte, error) {
	at := c.i
	id, err := c.int31()
	if err != nil {
		return nil, err
	}
	s, ok := x.dict.Lookup(id)
	if !ok {
		c.i = at
		return nil, c.fail("dictionary string %d is not in the dictionary", id)
	}
	if err := x.need(c, len(s)); err != nil {
		return nil, err
	}
	start := len(x.vals)
	x.vals = append(x.vals, s...)
	return x.vals[start:], nil
}

// need checks that n more bytes fit in vals, which never grows, so the
// slices already taken from it stay valid.
func (x *Reader) need(c *cur, n int) error {
	if len(x.vals)+n > cap(x.vals) {
		return &Error{Offset: c.off + int64(c.i), Err: soap.ErrTokenTooLarge,
			Msg: fmt.Sprintf("a token's values are over the limit of %d bytes", cap(x.vals))}
	}
	return nil
}

func (x *Reader) syntax(format string, args ...any) error {
	return &Error{Offset: x.off + int64(x.r), Msg: fmt.Sprintf(format, args...)}
}

// Next returns the next token; see soap.TokenReader.
func (x *Reader) Next() (*soap.Token, error) {
	if x.err != nil {
		return nil, x.err
	}
	if x.pendingEnd {
		x.pendingEnd = false
		x.tok = x.popEnd()
		return &x.tok, nil
	}
	for {
		x.vals = x.vals[:0]
		var tok soap.Token
		var err error
		if x.arrState != arrNone {
			tok, err = x.arrayNext()
		} else {
			tok, err = x.scan()
		}
		if err == nil {
			x.tok = tok
			return &x.tok, nil
		}
		if err != errShort {
			x.err = err
			return nil, err
		}
		if x.eof {
			if x.r == x.w && len(x.elems) == 0 && x.rootSeen && x.arrState == arrNone {
				x.err = io.EOF
				return nil, io.EOF
			}
			x.err = &Error{Offset: x.off + int64(x.w), Err: io.ErrUnexpectedEOF, Msg: "input ended inside the document"}
			return nil, x.err
		}
		if err := x.fill(); err != nil {
			x.err = err
			return nil, err
		}
	}
}

// fill reads up to FillSize more bytes, first moving the unread bytes to the
// front of the buffer.
func (x *Reader) fill() error {
	w, shifted, eof, err := soap.Refill(x.src, x.buf, x.r, x.w, x.lim.FillSize)
	x.off += int64(shifted)
	x.r, x.w, x.eof = 0, w, x.eof || eof
	switch {
	case errors.Is(err, soap.ErrBufferFull):
		return &Error{Offset: x.off, Err: soap.ErrTokenTooLarge,
			Msg: fmt.Sprintf("a start element with its attributes, or a record, is over the limit of %d bytes", len(x.buf))}
	case err != nil:
		return &Error{Offset: x.off + int64(x.w), Err: err, Msg: soap.ReadErrorMessage(err)}
	}
	return nil
}

func (x *Reader) cursor() cur {
	return cur{p: x.buf[x.r:x.w], off: x.off + int64(x.r), final: x.eof, max: len(x.buf)}
}

// scan decodes the next token from the buffer, or returns errShort when the
// buffer holds only part of it (and consumes nothing).
func (x *Reader) scan() (soap.Token, error) {
	for {
		c := x.cursor()
		if len(c.p) == 0 {
			return soap.Token{}, errShort
		}
		t := c.p[0]
		switch {
		case t == recComment:
			c.i = 1
			if _, err := c.str(); err != nil {
				return soap.Token{}, err
			}
			x.r += c.i
			continue
		case t == recEndElement:
			if len(x.elems) == 0 {
				return soap.Token{}, x.syntax("EndElement record with no element open")
			}
			x.r++
			return x.popEnd(), nil
		case t == recArray:
			return x.array(&c)
		case t >= recShortElement && t <= recPrefixElementA+25:
			tok, err := x.startElement(&c)
			if err != nil {
				return soap.Token{}, err
			}
			x.r += c.i
			return tok, nil
		case t >= recZeroText && t <= recLastText:
			if len(x.elems) == 0 {
				return soap.Token{}, x.syntax("text record 0x%02X outside the root element", t)
			}
			c.i = 1
			text, err := x.content(&c, t&^1)
			if err != nil {
				return soap.Token{}, err
			}
			x.r += c.i
			if t&1 != 0 {
				if len(text) == 0 {
					return x.popEnd(), nil
				}
				x.pendingEnd = true
			} else if len(text) == 0 {
				continue // the text reader has no empty text tokens either
			}
			return soap.Token{Kind: soap.Text, Text: text}, nil
		case t >= recShortAttribute && t <= recPrefixAttributeA+25:
			return soap.Token{}, x.syntax("attribute record 0x%02X not after an element record", t)
		default:
			return soap.Token{}, x.syntax("unknown record type 0x%02X", t)
		}
	}
}

// content decodes one text record's characters in element content. UTF-8
// text is returned in place; everything else is formatted into vals.
func (x *Reader) content(c *cur, t byte) ([]byte, error) {
	var n int
	switch t {
	case recChars8Text:
		b, err := c.u8()
		if err != nil {
			return nil, err
		}
		n = int(b)
	case recChars16Text:
		p, err := c.take(2)
		if err != nil {
			return nil, err
		}
		n = int(binary.LittleEndian.Uint16(p))
	case recChars32Text:
		p, err := c.take(4)
		if err != nil {
			return nil, err
		}
		if n = int(int32(binary.LittleEndian.Uint32(p))); n < 0 {
			return nil, c.fail("negative length %d", n)
		}
	default:
		if err := x.value(c, t, false); err != nil {
			return nil, err
		}
		return x.vals, nil
	}
	at := c.i
	p, err := c.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(p) {
		c.i = at
		return nil, c.fail("text is not UTF-8")
	}
	return p, nil
}

var letters = []byte("abcdefghijklmnopqrstuvwxyz")

// startElement decodes an element record and the attribute records after
// it, and opens the element. On any error, errShort included, the reader's
// state is as before.
func (x *Reader) startElement(c *cur) (soap.Token, error) {
	if len(x.elems) == 0 && x.rootSeen && !x.fragments {
		return soap.Token{}, x.syntax("a second root element")
	}
	if len(x.elems) >= x.lim.MaxDepth {
		return soap.Token{}, &Error{Offset: c.off + int64(c.i), Err: soap.ErrTooDeep,
			Msg: fmt.Sprintf("elements nested deeper than %d", x.lim.MaxDepth)}
	}
	e := openElem{nsLen: len(x.ns), namesLen: len(x.names)}
	tok, err := x.startElement1(c, &e)
	if err != nil {
		x.ns, x.names = x.ns[:e.nsLen], x.names[:e.namesLen]
		return soap.Token{}, err
	}
	return tok, nil
}

func (x *Reader) startElement1(c *cur, e *openElem) (soap.Token, error) {
	t, err := c.u8()
	if err != nil {
		return soap.Token{}, err
	}
	var prefix, local []byte
	switch {
	case t == recShortElement:
		local, err = c.str()
	case t == recElement:
		if prefix, err = c.str(); err == nil {
			local, err = c.str()
		}
	case t == recShortDictionaryElement:
		local, err = x.dictString(c)
	case t == recDictionaryElement:
		if prefix, err = c.str(); err == nil {
			local, err = x.dictString(c)
		}
	case t >= recPrefixDictionaryElementA && t < recPrefixDictionaryElementA+26:
		k := t - recPrefixDictionaryElementA
		prefix = letters[k : k+1]
		local, err = x.dictString(c)
	case t >= recPrefixElementA && t < recPrefixElementA+26:
		k := t - recPrefixElementA
		prefix = letters[k : k+1]
		local, err = c.str()
	default: // after an Array record
		c.i--
		return soap.Token{}, c.fail("record 0x%02X where an element record must be", t)
	}
	if err != nil {
		return soap.Token{}, err
	}
	if len(local) == 0 {
		return soap.Token{}, c.fail("element with an empty name")
	}
	x.raw = x.raw[:0]
	for {
		if c.i == len(c.p) {
			if !c.final {
				return soap.Token{}, errShort // the next record may be an attribute
			}
			break
		}
		t := c.p[c.i]
		if t < recShortAttribute || t > recPrefixAttributeA+25 {
			break
		}
		if err := x.attribute(c); err != nil {
			return soap.Token{}, err
		}
	}
	if e.prefix, err = x.intern(c, prefix); err != nil {
		return soap.Token{}, err
	}
	if e.local, err = x.intern(c, local); err != nil {
		return soap.Token{}, err
	}
	space, ok := x.lookup(prefix)
	if !ok {
		return soap.Token{}, c.fail("unbound prefix %q", prefix)
	}
	x.attrs = x.attrs[:0]
	for _, a := range x.raw {
		var sp []byte
		if len(a.prefix) > 0 {
			if sp, ok = x.lookup(a.prefix); !ok {
				return soap.Token{}, c.fail("unbound prefix %q", a.prefix)
			}
		}
		x.attrs = append(x.attrs, soap.Attr{Name: soap.Name{Space: sp, Local: a.local}, Value: a.value})
	}
	x.elems = append(x.elems, *e)
	x.rootSeen = true
	return soap.Token{Kind: soap.StartElement, Name: soap.Name{Space: space, Local: local}, Attrs: x.attrs}, nil
}

// attribute decodes one attribute record: a namespace declaration is bound
// at once, any other attribute is kept in raw until the element's
// declarations are all known.
func (x *Reader) attribute(c *cur) error {
	t, _ := c.u8()
	var prefix, local []byte
	var err error
	switch {
	case t == recShortAttribute:
		local, err = c.str()
	case t == recAttribute:
		if prefix, err = c.str(); err == nil {
			local, err = c.str()
		}
	case t == recShortDictionaryAttribute:
		local, err = x.dictString(c)
	case t == recDictionaryAttribute:
		if prefix, err = c.str(); err == nil {
			local, err = x.dictString(c)
		}
	case t == recShortXmlnsAttribute, t == recShortDictionaryXmlns:
		var uri []byte
		if t == recShortXmlnsAttribute {
			uri, err = c.str()
		} else {
			uri, err = x.dictString(c)
		}
		if err != nil {
			return err
		}
		return x.bind(c, nil, uri)
	case t == recXmlnsAttribute, t == recDictionaryXmlns:
		var uri []byte
		if prefix, err = c.str(); err != nil {
			return err
		}
		if t == recXmlnsAttribute {
			uri, err = c.str()
		} else {
			uri, err = x.dictString(c)
		}
		if err != nil {
			return err
		}
		if len(prefix) == 0 || len(uri) == 0 {
			return c.fail("xmlns declaration with an empty prefix or namespace")
		}
		return x.bind(c, prefix, uri)
	case t >= recPrefixDictionaryAttributeA && t < recPrefixDictionaryAttributeA+26:
		k := t - recPrefixDictionaryAttributeA
		prefix = letters[k : k+1]
		local, err = x.dictString(c)
	default: // PrefixAttribute[A-Z]
		k := t - recPrefixAttributeA
		prefix = letters[k : k+1]
		local, err = c.str()
	}
	if err != nil {
		return err
	}
	if len(local) == 0 {
		return c.fail("attribute with an empty name")
	}
	vt, err := c.u8()
	if err != nil {
		return err
	}
	if vt < recZeroText || vt > recLastText || vt&1 != 0 {
		c.i--
		return c.fail("attribute value record 0x%02X is not a text record", vt)
	}
	start := len(x.vals)
	if err := x.value(c, vt, false); err != nil {
		return err
	}
	x.raw = append(x.raw, rawAttr{prefix: prefix, local: local, value: x.vals[start:len(x.vals):len(x.vals)]})
	return nil
}

func (x *Reader) intern(c *cur, b []byte) (span, error) {
	if len(x.names)+len(b) > cap(x.names) {
		return span{}, c.fail("names and namespaces in scope over the limit of %d bytes", cap(x.names))
	}
	s := len(x.names)
	x.names = append(x.names, b...)
	return span{s, len(x.names)}, nil
}

func (x *Reader) get(s span) []byte { return x.names[s.s:s.e] }

func (x *Reader) bind(c *cur, prefix, uri []byte) error {
	p, err := x.intern(c, prefix)
	if err != nil {
		return err
	}
	u, err := x.intern(c, uri)
	if err != nil {
		return err
	}
	x.ns = append(x.ns, nsBind{p, u})
	return nil
}

const nsXML = "http://www.w3.org/XML/1998/namespace"

// lookup resolves a prefix to its namespace URI.
func (x *Reader) lookup(prefix []byte) ([]byte, bool) {
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

// popEnd closes the innermost element. The token's names stay readable
// until the next call: popped bytes are only overwritten by a later push.
func (x *Reader) popEnd() soap.Token {
	top := x.elems[len(x.elems)-1]
	space, _ := x.lookup(x.get(top.prefix))
	x.elems = x.elems[:len(x.elems)-1]
	x.ns, x.names = x.ns[:top.nsLen], x.names[:top.namesLen]
	return soap.Token{Kind: soap.EndElement, Name: soap.Name{Space: space, Local: x.get(top.local)}}
}

// arraySize is the size of one value of each record type an Array carries.
func arraySize(t byte) int {
	switch t {
	case recBoolText + 1:
		return 1
	case recInt16Text + 1:
		return 2
	case recInt32Text + 1, recFloatText + 1:
		return 4
	case recInt64Text + 1, recDoubleText + 1, recDateTimeText + 1, recTimeSpanText + 1:
		return 8
	case recDecimalText + 1, recUUIDText + 1:
		return 16
	}
	return 0
}

// array decodes an Array record's header: the element (with attributes),
// EndElement, the value type and the count. It returns the first element's
// start; arrayNext returns the rest.
func (x *Reader) array(c *cur) (soap.Token, error) {
	c.i = 1
	start := c.i
	depth := len(x.elems)
	tok, err := x.startElement(c)
	if err != nil {
		return soap.Token{}, err
	}
	end := c.i
	undo := func(err error) (soap.Token, error) {
		top := x.elems[depth]
		x.elems = x.elems[:depth]
		x.ns, x.names = x.ns[:top.nsLen], x.names[:top.namesLen]
		if depth == 0 {
			x.rootSeen = false
		}
		return soap.Token{}, err
	}
	b, err := c.u8()
	if err != nil {
		return undo(err)
	}
	if b != recEndElement {
		c.i--
		return undo(c.fail("array: record 0x%02X after the element, not EndElement", b))
	}
	if x.arrType, err = c.u8(); err != nil {
		return undo(err)
	}
	if arraySize(x.arrType) == 0 {
		c.i--
		return undo(c.fail("array of record type 0x%02X", x.arrType))
	}
	if x.arrLeft, err = c.int31(); err != nil {
		return undo(err)
	}
	if x.arrLeft == 0 {
		return undo(c.fail("array of no values"))
	}
	x.arr = append(x.arr[:0], c.p[start:end]...)
	x.arrState = arrText
	x.r += c.i
	return tok, nil
}

// arrayNext returns the next token of an Array record being expanded.
func (x *Reader) arrayNext() (soap.Token, error) {
	switch x.arrState {
	case arrText:
		c := x.cursor()
		p, err := c.take(arraySize(x.arrType))
		if err != nil {
			return soap.Token{}, err
		}
		vc := cur{p: p, off: c.off, final: true, max: len(p)}
		if err := x.value(&vc, x.arrType&^1, false); err != nil {
			return soap.Token{}, err
		}
		x.r += c.i
		x.arrState = arrEnd
		return soap.Token{Kind: soap.Text, Text: x.vals}, nil
	case arrEnd:
		tok := x.popEnd()
		x.arrLeft--
		if x.arrLeft == 0 {
			x.arrState = arrNone
			x.arr = x.arr[:0]
			return tok, nil
		}
		// The next element start comes from the saved records; the end
		// token's names stay valid because x.names is only truncated.
		x.arrState = arrStart
		return tok, nil
	case arrStart:
		c := cur{p: x.arr, off: x.off + int64(x.r), final: true, max: len(x.arr)}
		tok, err := x.startElement(&c)
		if err != nil {
			return soap.Token{}, err
		}
		x.arrState = arrText
		return tok, nil
	}
	panic("nbfx: array state") // arrNone is never passed here
}

func math32(u uint32) float32 { return math.Float32frombits(u) }
func math64(u uint64) float64 { return math.Float64frombits(u) }

// value decodes one text record of type t (even), its type byte already
// read, and appends its characters to vals as .NET would read them.
func (x *Reader) value(c *cur, t byte, inList bool) error {
	at := c.i - 1
	fixed := func(n int) ([]byte, error) {
		p, err := c.take(n)
		if err != nil {
			return nil, err
		}
		return p, x.need(c, 64)
	}
	switch t {
	case recZeroText, recOneText, recFalseText, recTrueText:
		s := [...]string{"0", "1", "false", "true"}[(t-recZeroText)/2]
		if err := x.need(c, len(s)); err != nil {
			return err
		}
		x.vals = append(x.vals, s...)
	case recInt8Text, recInt16Text, recInt32Text, recInt64Text, recUInt64Text:
		n := 8
		switch t {
		case recInt8Text:
			n = 1
		case recInt16Text:
			n = 2
		case recInt32Text:
			n = 4
		}
		p, err := fixed(n)
		if err != nil {
			return err
		}
		switch t {
		case recInt8Text:
			x.vals = strconv.AppendInt(x.vals, int64(int8(p[0])), 10)
		case recInt16Text:
			x.vals = strconv.AppendInt(x.vals, int64(int16(binary.LittleEndian.Uint16(p))), 10)
		case recInt32Text:
			x.vals = strconv.AppendInt(x.vals, int64(int32(binary.LittleEndian.Uint32(p))), 10)
		case recInt64Text:
			x.vals = strconv.AppendInt(x.vals, int64(binary.LittleEndian.Uint64(p)), 10)
		default:
			x.vals = strconv.AppendUint(x.vals, binary.LittleEndian.Uint64(p), 10)
		}
	case recFloatText:
		p, err := fixed(4)
		if err != nil {
			return err
		}
		x.vals = appendFloat32(x.vals, math32(binary.LittleEndian.Uint32(p)))
	case recDoubleText:
		p, err := fixed(8)
		if err != nil {
			return err
		}
		x.vals = appendDouble(x.vals, math64(binary.LittleEndian.Uint64(p)))
	case recDecimalText:
		p, err := fixed(16)
		if err != nil {
			return err
		}
		var ok bool
		if x.vals, ok = appendDecimal(x.vals, p); !ok {
			c.i = at
			return c.fail("bad decimal value % X", p)
		}
	case recDateTimeText:
		p, err := fixed(8)
		if err != nil {
			return err
		}
		var ok bool
		if x.vals, ok = appendDateTime(x.vals, binary.LittleEndian.Uint64(p), x.loc); !ok {
			c.i = at
			return c.fail("DateTime value 0x%016X out of range", binary.LittleEndian.Uint64(p))
		}
	case recTimeSpanText:
		p, err := fixed(8)
		if err != nil {
			return err
		}
		x.vals = appendTimeSpan(x.vals, int64(binary.LittleEndian.Uint64(p)))
	case recUniqueIDText, recUUIDText:
		p, err := fixed(16)
		if err != nil {
			return err
		}
		if t == recUniqueIDText {
			x.vals = append(x.vals, "urn:uuid:"...)
		}
		x.vals = appendGUID(x.vals, p)
	case recBoolText:
		p, err := fixed(1)
		if err != nil {
			return err
		}
		switch p[0] {
		case 0:
			x.vals = append(x.vals, "false"...)
		case 1:
			x.vals = append(x.vals, "true"...)
		default:
			c.i = at
			return c.fail("Bool value %d is neither 0 nor 1", p[0])
		}
	case recChars8Text, recChars16Text, recChars32Text,
		recBytes8Text, recBytes16Text, recBytes32Text,
		recUnicodeChars8Text, recUnicodeChars16Text, recUnicodeChars32Text:
		var width int
		switch t {
		case recChars8Text, recBytes8Text, recUnicodeChars8Text:
			width = 1
		case recChars16Text, recBytes16Text, recUnicodeChars16Text:
			width = 2
		default:
			width = 4
		}
		lp, err := c.take(width)
		if err != nil {
			return err
		}
		var n int
		switch width {
		case 1:
			n = int(lp[0])
		case 2:
			n = int(binary.LittleEndian.Uint16(lp))
		default:
			if n = int(int32(binary.LittleEndian.Uint32(lp))); n < 0 {
				c.i = at
				return c.fail("negative length %d", n)
			}
		}
		p, err := c.take(n)
		if err != nil {
			return err
		}
		switch t {
		case recChars8Text, recChars16Text, recChars32Text:
			if !utf8.Valid(p) {
				c.i = at
				return c.fail("text is not UTF-8")
			}
			if err := x.need(c, n); err != nil {
				return err
			}
			x.vals = append(x.vals, p...)
		case recBytes8Text, recBytes16Text, recBytes32Text:
			if err := x.need(c, (n+2)/3*4); err != nil {
				return err
			}
			x.vals = appendBase64(x.vals, p)
		default:
			if n%2 != 0 {
				c.i = at
				return c.fail("UTF-16 text of an odd length %d", n)
			}
			if err := x.need(c, n/2*3); err != nil {
				return err
			}
			var ok bool
			if x.vals, ok = appendUTF16(x.vals, p); !ok {
				c.i = at
				return c.fail("UTF-16 text with an unpaired surrogate")
			}
		}
	case recStartListText:
		if inList {
			c.i = at
			return c.fail("a list inside a list")
		}
		for first := true; ; first = false {
			it, err := c.u8()
			if err != nil {
				return err
			}
			if it == recEndListText {
				return nil
			}
			if it < recZeroText || it > recLastText || it&1 != 0 {
				c.i--
				return c.fail("record 0x%02X in a text list", it)
			}
			if !first {
				if err := x.need(c, 1); err != nil {
					return err
				}
				x.vals = append(x.vals, ' ')
			}
			if err := x.value(c, it, true); err != nil {
				return err
			}
		}
	case recEmptyText:
	case recDictionaryText:
		if _, err := x.dictString(c); err != nil {
			return err
		}
	case recQNameDictionary:
		p, err := c.u8()
		if err != nil {
			return err
		}
		if p > 25 {
			c.i = at
			return c.fail("QName prefix %d is not a letter a-z", p)
		}
		if err := x.need(c, 2); err != nil {
			return err
		}
		x.vals = append(x.vals, 'a'+p, ':')
		if _, err := x.dictString(c); err != nil {
			return err
		}
	default: // EndListText out of place
		c.i = at
		return c.fail("record 0x%02X out of place", t)
	}
	return nil
}

// appendUTF16 appends UTF-16LE p as UTF-8; false for an unpaired surrogate.
func appendUTF16(b []byte, p []byte) ([]byte, bool) {
	for i := 0; i+1 < len(p); i += 2 {
		u := rune(binary.LittleEndian.Uint16(p[i:]))
		switch {
		case u < 0xD800 || u > 0xDFFF:
			b = utf8.AppendRune(b, u)
		case u <= 0xDBFF && i+3 < len(p):
			v := rune(binary.LittleEndian.Uint16(p[i+2:]))
			if v < 0xDC00 || v > 0xDFFF {
				return b, false
			}
			b = utf8.AppendRune(b, 0x10000+(u-0xD800)<<10+(v-0xDC00))
			i += 2
		default:
			return b, false
		}
	}
	return b, true
}
