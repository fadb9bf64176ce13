// Package nbfx reads and writes the .NET Binary Format for XML: the records
// of [MC-NBFX], the static SOAP dictionary of [MC-NBFS] and the in-band
// string tables of [MC-NBFSE], the encoding of WCF's NetTcpBinding (MC-NMF
// known encodings 7 and 8). It is pure: Reader pulls soap.Tokens from an
// io.Reader in memory bounded by soap.Limits, exactly like soap.TextReader,
// so the SOAP envelope reader uses either encoding unchanged; Writer appends
// records to a []byte; Session applies string tables. No sockets here.
package nbfx

import "fmt"

// Record types of [MC-NBFX] section 2.1.1. A text record's type is even;
// type|1 is the same text followed by an EndElement.
const (
	recEndElement = 0x01
	recComment    = 0x02
	recArray      = 0x03

	recShortAttribute             = 0x04
	recAttribute                  = 0x05
	recShortDictionaryAttribute   = 0x06
	recDictionaryAttribute        = 0x07
	recShortXmlnsAttribute        = 0x08
	recXmlnsAttribute             = 0x09
	recShortDictionaryXmlns       = 0x0A
	recDictionaryXmlns            = 0x0B
	recPrefixDictionaryAttributeA = 0x0C // ..0x25, prefixes a..z
	recPrefixAttributeA           = 0x26 // ..0x3F

	recShortElement             = 0x40
	recElement                  = 0x41
	recShortDictionaryElement   = 0x42
	recDictionaryElement        = 0x43
	recPrefixDictionaryElementA = 0x44 // ..0x5D
	recPrefixElementA           = 0x5E // ..0x77

	recZeroText           = 0x80
	recOneText            = 0x82
	recFalseText          = 0x84
	recTrueText           = 0x86
	recInt8Text           = 0x88
	recInt16Text          = 0x8A
	recInt32Text          = 0x8C
	recInt64Text          = 0x8E
	recFloatText          = 0x90
	recDoubleText         = 0x92
	recDecimalText        = 0x94
	recDateTimeText       = 0x96
	recChars8Text         = 0x98
	recChars16Text        = 0x9A
	recChars32Text        = 0x9C
	recBytes8Text         = 0x9E
	recBytes16Text        = 0xA0
	recBytes32Text        = 0xA2
	recStartListText      = 0xA4
	recEndListText        = 0xA6
	recEmptyText          = 0xA8
	recDictionaryText     = 0xAA
	recUniqueIDText       = 0xAC
	recTimeSpanText       = 0xAE
	recUUIDText           = 0xB0
	recUInt64Text         = 0xB2
	recBoolText           = 0xB4
	recUnicodeChars8Text  = 0xB6
	recUnicodeChars16Text = 0xB8
	recUnicodeChars32Text = 0xBA
	recQNameDictionary    = 0xBC
	recLastText           = 0xBD
)

// MaxInt31 is the largest value a MultiByteInt31 carries.
const MaxInt31 = 1<<31 - 1

// Dictionary resolves DictionaryString ids to strings while reading.
// StaticDictionary (even ids) and *Session (both) implement it.
type Dictionary interface {
	Lookup(id int) (string, bool)
}

// Error is malformed or over-limit binary XML, with the input offset of
// the record at fault.
type Error struct {
	Offset int64
	Msg    string
	Err    error // soap.ErrTokenTooLarge, soap.ErrTooDeep, io.ErrUnexpectedEOF, a read error, or nil
}

// Error says what is wrong and at which input byte.
func (e *Error) Error() string {
	return fmt.Sprintf("nbfx: at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// AppendInt31 appends v (0 <= v <= MaxInt31) as a MultiByteInt31: seven
// bits a byte, low bits first, the high bit marking more to come.
func AppendInt31(b []byte, v int) []byte {
	if v < 0 || v > MaxInt31 {
		panic("nbfx: MultiByteInt31 out of range")
	}
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// errShort means p ended inside the value; the caller reads more input.
var errShort = fmt.Errorf("nbfx: short input")

// decodeInt31 decodes a MultiByteInt31 from the start of p. It returns
// errShort if p ends first, or an error if the value is over 31 bits.
func decodeInt31(p []byte) (v, n int, err error) {
	var u uint32
	for i := 0; i < 5; i++ {
		if i >= len(p) {
			return 0, 0, errShort
		}
		c := p[i]
		if i == 4 && c > 0x07 {
			return 0, 0, fmt.Errorf("MultiByteInt31 over 31 bits")
		}
		u |= uint32(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			return int(u), i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("MultiByteInt31 over 31 bits") // unreachable: the 5th byte is checked
}
