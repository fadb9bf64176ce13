// The token interface between the SOAP layer and an XML encoding: the text
// encoding here, the binary encodings of [MC-NBFX]/[MC-NBFSE] next (issue
// 6). An encoding is a TokenReader; the envelope Reader and the generated
// decoders only ever see Tokens.

package soap

import (
	"errors"
	"io"
)

// TokenKind says what a Token is.
type TokenKind uint8

// The kinds of token. Comments, processing instructions and the XML
// declaration are not tokens: readers skip them.
const (
	StartElement TokenKind = iota + 1
	EndElement
	Text
)

// Name is a namespace-qualified XML name. Space is the namespace URI the
// prefix resolved to (empty for none).
type Name struct {
	Space, Local []byte
}

// Is reports whether n is {space}local.
func (n Name) Is(space, local string) bool {
	return string(n.Local) == local && string(n.Space) == space
}

// Attr is one attribute of a start element, namespace declarations
// excluded.
type Attr struct {
	Name  Name
	Value []byte
}

// Token is one XML token. Its slices alias the reader's buffers and are
// valid only until the next call to Next.
type Token struct {
	Kind  TokenKind
	Name  Name   // StartElement, EndElement
	Attrs []Attr // StartElement
	Text  []byte // Text, with entities and character references decoded
}

// Attr returns the value of attribute {space}local and whether it is there.
func (t *Token) Attr(space, local string) ([]byte, bool) {
	for i := range t.Attrs {
		if t.Attrs[i].Name.Is(space, local) {
			return t.Attrs[i].Value, true
		}
	}
	return nil, false
}

// TokenReader is an XML encoding's pull reader. It reads its input itself,
// in small reads, into memory bounded by its limits, so a document of any
// length is read in constant memory. At the end of the document (the root
// element closed and the input ended) Next returns io.EOF; input that ends
// early is io.ErrUnexpectedEOF.
type TokenReader interface {
	// Next returns the next token. It points into the reader and, like
	// its slices, is valid only until the next call.
	Next() (*Token, error)
	// Reset starts reading a new document from src, keeping buffers.
	Reset(src io.Reader)
}

// Limits bound the memory a reader spends on one message. The zero value
// means the defaults.
type Limits struct {
	// MaxToken bounds one token: a start tag with its attributes, or a run
	// of text (default 1024 bytes, the seed's heap). A bigger one is
	// ErrTokenTooLarge.
	MaxToken int
	// FillSize is how many bytes each read of the input asks for (default
	// 128, as the seed's WsFillReader).
	FillSize int
	// MaxDepth bounds element nesting (default 32).
	MaxDepth int
	// MaxNames bounds the bytes of open element names and namespace
	// declarations in scope (default 4096).
	MaxNames int
}

// Defaults for Limits.
const (
	DefaultMaxToken = 1024
	DefaultFillSize = 128
	DefaultMaxDepth = 32
	DefaultMaxNames = 4096
)

func (l Limits) withDefaults() Limits {
	if l.MaxToken <= 0 {
		l.MaxToken = DefaultMaxToken
	}
	if l.FillSize <= 0 {
		l.FillSize = DefaultFillSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNames <= 0 {
		l.MaxNames = DefaultMaxNames
	}
	return l
}

// Errors of the readers. Each is wrapped in a *SyntaxError saying where.
var (
	// ErrTokenTooLarge: one token does not fit in Limits.MaxToken.
	ErrTokenTooLarge = errors.New("token over the size limit")
	// ErrTooDeep: elements nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("elements nested over the depth limit")
	// ErrQuotaExceeded: a value does not fit in its Heap.
	ErrQuotaExceeded = errors.New("value over the heap quota")
)
