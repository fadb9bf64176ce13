// The binary XML writer: the records a server needs to answer, appended to
// a []byte. Names and namespaces the dictionary knows go as dictionary
// references, the rest inline; single-letter prefixes use the compact
// Prefix* records; a text followed by its EndElement becomes one
// ...WithEndElement record, as .NET writes them.

package nbfx

import (
	"encoding/binary"
	"math"
)

// IDs finds the dictionary id of a string while writing.
// StaticDictionary and *Session implement it.
type IDs interface {
	ID(s string) (int, bool)
}

// Writer appends binary XML records to Buf. The zero value writes inline
// strings only; set Dict to use a dictionary. The caller keeps the XML
// well formed: one StartElement, then its Xmlns and Attr calls, then
// content, then EndElement.
type Writer struct {
	Buf  []byte
	Dict IDs
	// text is 1 + the offset in Buf of the text record just written as
	// element content, or 0: EndElement folds into it.
	text int
}

// Reset empties Buf, keeping its memory.
func (w *Writer) Reset() {
	w.Buf, w.text = w.Buf[:0], 0
}

func (w *Writer) id(s string) (int, bool) {
	if w.Dict == nil {
		return 0, false
	}
	return w.Dict.ID(s)
}

func (w *Writer) str(s string) {
	w.Buf = AppendInt31(w.Buf, len(s))
	w.Buf = append(w.Buf, s...)
}

// letter returns k for a one-letter prefix "a".."z".
func letter(prefix string) (byte, bool) {
	if len(prefix) == 1 && prefix[0] >= 'a' && prefix[0] <= 'z' {
		return prefix[0] - 'a', true
	}
	return 0, false
}

// nameRecords are the six record types that write a qualified name, for
// elements or for attributes: by prefix form (none, a single letter, any)
// and by whether the local name is a dictionary string.
type nameRecords struct {
	shortDict, short, prefixDictA, prefixA, dict, plain byte
}

var (
	elementRecords = nameRecords{recShortDictionaryElement, recShortElement,
		recPrefixDictionaryElementA, recPrefixElementA, recDictionaryElement, recElement}
	attributeRecords = nameRecords{recShortDictionaryAttribute, recShortAttribute,
		recPrefixDictionaryAttributeA, recPrefixAttributeA, recDictionaryAttribute, recAttribute}
)

// StartElement writes an element record for prefix:local.
func (w *Writer) StartElement(prefix, local string) {
	w.text = 0
	w.name(prefix, local, &elementRecords)
}

// name writes prefix:local in the most compact of the record types recs
// offers.
func (w *Writer) name(prefix, local string, recs *nameRecords) {
	id, dict := w.id(local)
	k, short := letter(prefix)
	switch {
	case prefix == "" && dict:
		w.Buf = append(w.Buf, recs.shortDict)
		w.Buf = AppendInt31(w.Buf, id)
	case prefix == "":
		w.Buf = append(w.Buf, recs.short)
		w.str(local)
	case short && dict:
		w.Buf = append(w.Buf, recs.prefixDictA+k)
		w.Buf = AppendInt31(w.Buf, id)
	case short:
		w.Buf = append(w.Buf, recs.prefixA+k)
		w.str(local)
	case dict:
		w.Buf = append(w.Buf, recs.dict)
		w.str(prefix)
		w.Buf = AppendInt31(w.Buf, id)
	default:
		w.Buf = append(w.Buf, recs.plain)
		w.str(prefix)
		w.str(local)
	}
}

// Xmlns declares prefix ("" for the default namespace) as uri on the
// element just started.
func (w *Writer) Xmlns(prefix, uri string) {
	id, dict := w.id(uri)
	switch {
	case prefix == "" && dict:
		w.Buf = append(w.Buf, recShortDictionaryXmlns)
		w.Buf = AppendInt31(w.Buf, id)
	case prefix == "":
		w.Buf = append(w.Buf, recShortXmlnsAttribute)
		w.str(uri)
	case dict:
		w.Buf = append(w.Buf, recDictionaryXmlns)
		w.str(prefix)
		w.Buf = AppendInt31(w.Buf, id)
	default:
		w.Buf = append(w.Buf, recXmlnsAttribute)
		w.str(prefix)
		w.str(uri)
	}
}

// Attr writes attribute prefix:local (no prefix: no namespace) on the
// element just started, its value as text.
func (w *Writer) Attr(prefix, local, value string) {
	w.attrName(prefix, local)
	w.chars(value)
}

func (w *Writer) attrName(prefix, local string) {
	w.name(prefix, local, &attributeRecords)
}

// AttrInt writes an attribute with an integer value record.
func (w *Writer) AttrInt(prefix, local string, v int64) {
	w.attrName(prefix, local)
	w.int(v)
}

// AttrBool writes an attribute with a true or false record.
func (w *Writer) AttrBool(prefix, local string, v bool) {
	w.attrName(prefix, local)
	w.bool(v)
}

func (w *Writer) bool(v bool) {
	if v {
		w.Buf = append(w.Buf, recTrueText)
	} else {
		w.Buf = append(w.Buf, recFalseText)
	}
}

// chars appends s as the shortest text record: EmptyText, a dictionary
// reference, or Chars8/16/32.
func (w *Writer) chars(s string) {
	if s == "" {
		w.Buf = append(w.Buf, recEmptyText)
		return
	}
	if id, ok := w.id(s); ok {
		w.Buf = append(w.Buf, recDictionaryText)
		w.Buf = AppendInt31(w.Buf, id)
		return
	}
	switch n := len(s); {
	case n <= math.MaxUint8:
		w.Buf = append(w.Buf, recChars8Text, byte(n))
	case n <= math.MaxUint16:
		w.Buf = append(w.Buf, recChars16Text)
		w.Buf = binary.LittleEndian.AppendUint16(w.Buf, uint16(n))
	default:
		w.Buf = append(w.Buf, recChars32Text)
		w.Buf = binary.LittleEndian.AppendUint32(w.Buf, uint32(n))
	}
	w.Buf = append(w.Buf, s...)
}

// int appends v as the smallest integer record .NET reads back as v.
func (w *Writer) int(v int64) {
	switch {
	case v == 0:
		w.Buf = append(w.Buf, recZeroText)
	case v == 1:
		w.Buf = append(w.Buf, recOneText)
	case v >= math.MinInt8 && v <= math.MaxInt8:
		w.Buf = append(w.Buf, recInt8Text, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		w.Buf = append(w.Buf, recInt16Text)
		w.Buf = binary.LittleEndian.AppendUint16(w.Buf, uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		w.Buf = append(w.Buf, recInt32Text)
		w.Buf = binary.LittleEndian.AppendUint32(w.Buf, uint32(v))
	default:
		w.Buf = append(w.Buf, recInt64Text)
		w.Buf = binary.LittleEndian.AppendUint64(w.Buf, uint64(v))
	}
}

// Text writes s as element content. Invalid UTF-8 is written as is and
// refused by readers; the caller passes text.
func (w *Writer) Text(s string) {
	if s == "" {
		return // nothing to say; an EndElement follows as a plain record
	}
	w.text = len(w.Buf) + 1
	w.chars(s)
}

// TextInt writes v as element content.
func (w *Writer) TextInt(v int64) {
	w.text = len(w.Buf) + 1
	w.int(v)
}

// TextBool writes v as element content ("true" or "false").
func (w *Writer) TextBool(v bool) {
	w.text = len(w.Buf) + 1
	w.bool(v)
}

// TextUniqueID writes a UniqueIdText record, read as "urn:uuid:" and the
// UUID u in its textual (big-endian, RFC 4122) byte order.
func (w *Writer) TextUniqueID(u [16]byte) {
	w.text = len(w.Buf) + 1
	w.Buf = append(w.Buf, recUniqueIDText)
	w.Buf = appendGUIDBytes(w.Buf, u)
}

// appendGUIDBytes appends u in .NET's Guid layout: Data1, Data2 and Data3
// little-endian.
func appendGUIDBytes(b []byte, u [16]byte) []byte {
	return append(b, u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6],
		u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15])
}

// EndElement closes the innermost element, folding into the text record
// just written when there is one.
func (w *Writer) EndElement() {
	if w.text > 0 {
		w.Buf[w.text-1] |= 1
		w.text = 0
		return
	}
	w.Buf = append(w.Buf, recEndElement)
}
