// Known encoding 8, binary XML with an in-band dictionary ([MC-NBFX],
// [MC-NBFS], [MC-NBFSE]): NetTcpBinding's default. Each envelope's payload
// starts with the StringTable its sender adds to its direction's session
// dictionary, then the binary document. Known encoding 7 is the same
// without the tables: the static dictionary only.
//
// Reading: the table is applied to the channel's incoming nbfx.Session,
// then the document is pulled through an nbfx.Reader, so the envelope
// reader and the generated decoders see the same tokens as with text.
//
// Writing: the envelope is appended as text as before (headers, generated
// body code), then transcoded token by token into binary records. The
// writer refers only to the static dictionary, so its outgoing table is
// always empty: it never uses a string the peer has not been told.

package nettcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/overlap-go/overlap/protocols/nbfx"
	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/protocols/soap"
)

// binEnc is one channel's state for encoding 7 or 8.
type binEnc struct {
	in   *nbfx.Session // encoding 8: the peer's strings, in the order its tables sent them; nil for 7
	body *soap.Reader  // over an nbfx.Reader with Dictionary in
	tbl  []byte        // the current envelope's string table
	// broken is the error of a string table that could not be applied:
	// the dictionaries are out of step, no later message can be read.
	broken error

	text  []byte // the envelope as text, before transcoding
	tr    *soap.TextReader
	trMax int
	w     nbfx.Writer
	scope []binding // namespace prefixes in scope while transcoding
	open  []int     // len(scope) at each open element
}

type binding struct{ prefix, uri string }

// maxTableBytes bounds one envelope's string table on the wire: the
// session's strings plus their length prefixes.
const maxTableBytes = nbfx.DefaultMaxBytes + 5*nbfx.DefaultMaxStrings

func newBinary(lim soap.Limits, session bool) *binEnc {
	bn := &binEnc{w: nbfx.Writer{Dict: nbfx.StaticDictionary{}}}
	var dict nbfx.Dictionary = nbfx.StaticDictionary{}
	if session {
		bn.in = nbfx.NewSession(nbfx.SessionLimits{})
		dict = bn.in
	}
	bn.body = soap.NewReader(nbfx.NewReader(nil, nbfx.Config{Limits: lim, Dictionary: dict}))
	return bn
}

// setEncoding switches the channel to the encoding its preamble chose.
func (ch *Channel) setEncoding(e nmf.Encoding) {
	ch.enc = e
	if e == nmf.EncodingSoap12BinarySess || e == nmf.EncodingSoap12Binary {
		ch.bin = newBinary(ch.cfg.Limits, e == nmf.EncodingSoap12BinarySess)
		ch.msg.Body = ch.bin.body
	}
}

// errBadTable: the peer's string table cannot be applied. The message
// gets a Sender fault; the session's dictionaries are out of step, so the
// session ends (the next ReadMessageStart fails).
var errBadTable = errors.New("nettcp: in-band dictionary")

// readTable reads the StringTable at the start of the envelope being read
// and adds its strings to the incoming session dictionary.
func (ch *Channel) readTable() error {
	bn := ch.bin
	var one [1]byte
	size, shift := 0, 0
	bn.tbl = bn.tbl[:0]
	for i := 0; ; i++ {
		if _, err := io.ReadFull(ch.body, one[:]); err != nil {
			return fmt.Errorf("%w: reading the table's size: %w", errBadTable, unexpected(err))
		}
		bn.tbl = append(bn.tbl, one[0])
		if i == 4 && one[0] > 0x07 {
			return fmt.Errorf("%w: table size over 31 bits", errBadTable)
		}
		size |= int(one[0]&0x7F) << shift
		shift += 7
		if one[0]&0x80 == 0 {
			break
		}
	}
	if size > maxTableBytes {
		return fmt.Errorf("%w: a table of %d bytes (limit %d)", errBadTable, size, maxTableBytes)
	}
	n := len(bn.tbl)
	if cap(bn.tbl) < n+size {
		bn.tbl = append(make([]byte, 0, n+size), bn.tbl...)
	}
	bn.tbl = bn.tbl[:n+size]
	if _, err := io.ReadFull(ch.body, bn.tbl[n:]); err != nil {
		return fmt.Errorf("%w: %w", errBadTable, unexpected(err))
	}
	if _, err := bn.in.Apply(bn.tbl); err != nil {
		return fmt.Errorf("%w: %w", errBadTable, err)
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendBinary appends the envelope in text (as soap.AppendEnvelopeStart,
// the body, soap.AppendEnvelopeEnd write it) to b as binary records, after
// an empty string table in encoding 8.
func (bn *binEnc) appendBinary(b []byte, text []byte) ([]byte, error) {
	if bn.in != nil {
		b = append(b, 0) // no new strings: only static dictionary references
	}
	if bn.tr == nil || bn.trMax < len(text) {
		bn.trMax = max(len(text), soap.DefaultMaxToken)
		bn.tr = soap.NewTextReader(nil, soap.Limits{
			MaxToken: bn.trMax, FillSize: bn.trMax, MaxDepth: 1 << 10, MaxNames: 2*bn.trMax + 64,
		})
	}
	bn.tr.Reset(bytes.NewReader(text))
	w := &bn.w
	w.Buf = b
	bn.scope, bn.open = bn.scope[:0], bn.open[:0]
	defer func() { w.Buf = nil }()
	for {
		t, err := bn.tr.Next()
		if err == io.EOF {
			return w.Buf, nil
		}
		if err != nil {
			return b, err
		}
		switch t.Kind {
		case soap.StartElement:
			bn.open = append(bn.open, len(bn.scope))
			// Bind every namespace the element and its attributes use
			// before writing the element: the records for xmlns follow
			// the element's name, and prefixes must be known first.
			mark := len(bn.scope)
			prefix := bn.prefix(string(t.Name.Space))
			var ap [8]string
			attrPrefixes := ap[:0]
			for i := range t.Attrs {
				attrPrefixes = append(attrPrefixes, bn.prefix(string(t.Attrs[i].Name.Space)))
			}
			w.StartElement(prefix, string(t.Name.Local))
			for _, nb := range bn.scope[mark:] {
				w.Xmlns(nb.prefix, nb.uri)
			}
			for i := range t.Attrs {
				w.Attr(attrPrefixes[i], string(t.Attrs[i].Name.Local), string(t.Attrs[i].Value))
			}
		case soap.EndElement:
			bn.scope = bn.scope[:bn.open[len(bn.open)-1]]
			bn.open = bn.open[:len(bn.open)-1]
			w.EndElement()
		case soap.Text:
			w.Text(string(t.Text))
		}
	}
}

// nsXML is the namespace of the xml prefix (xml:lang on a fault's Text).
const nsXML = "http://www.w3.org/XML/1998/namespace"

// preferred are the prefixes WCF uses for the envelope's namespaces.
var preferred = map[string]string{
	soap.NSEnvelope:   "s",
	soap.NSAddressing: "a",
}

// prefix returns the prefix bound to uri in scope, binding a new one on
// the current element if there is none. Unqualified elements and
// attributes have none; the default namespace is never declared, so an
// unqualified element needs no declaration.
func (bn *binEnc) prefix(uri string) string {
	switch uri {
	case "":
		return ""
	case nsXML: // bound to xml by definition; declaring it is an error
		return "xml"
	}
	for i := len(bn.scope) - 1; i >= 0; i-- {
		if bn.scope[i].uri == uri {
			return bn.scope[i].prefix
		}
	}
	p, ok := preferred[uri]
	if !ok || bn.bound(p) {
		p = ""
		for c := byte('a'); c <= 'z'; c++ {
			if !bn.bound(string(c)) {
				p = string(c)
				break
			}
		}
		for i := 0; p == ""; i++ {
			if q := "p" + strconv.Itoa(i); !bn.bound(q) {
				p = q
			}
		}
	}
	bn.scope = append(bn.scope, binding{p, uri})
	return p
}

// bound reports whether prefix p is in scope (bound to any namespace: a
// new binding never shadows one, so a prefix means one namespace).
func (bn *binEnc) bound(p string) bool {
	for _, b := range bn.scope {
		if b.prefix == p {
			return true
		}
	}
	return false
}
