// Package nmf is the .NET Message Framing protocol ([MC-NMF]), the wire
// format of WCF's net.tcp transport and of WWSAPI's TCP channel, as a pure
// codec: a Decoder that takes bytes in pieces of any size and yields typed
// records, Append functions that encode records onto a []byte, and the
// Server and Client state machines that say which record may come next and
// what the peer must be told when one does not. Nothing here does I/O.
//
// A session, in duplex mode (the mode WCF's NetTcpBinding and WWSAPI's
// WS_TCP_CHANNEL_BINDING use):
//
//	client: Version 1.0, Mode Duplex, Via, KnownEncoding, PreambleEnd
//	server: PreambleAck
//	both:   SizedEnvelope ... (messages, either direction)
//	client: End;  server: End
//
// In singleton-unsized mode (TransferMode.Streamed) one message is sent as
// an UnsizedEnvelope of chunks ended by a zero-size chunk, then End.
package nmf

import (
	"errors"
	"fmt"
)

// RecordType is the first byte of every framing record.
type RecordType byte

// The record types of [MC-NMF] section 2.2.3.
const (
	RecVersion            RecordType = 0x00
	RecMode               RecordType = 0x01
	RecVia                RecordType = 0x02
	RecKnownEncoding      RecordType = 0x03
	RecExtensibleEncoding RecordType = 0x04
	RecUnsizedEnvelope    RecordType = 0x05
	RecSizedEnvelope      RecordType = 0x06
	RecEnd                RecordType = 0x07
	RecFault              RecordType = 0x08
	RecUpgradeRequest     RecordType = 0x09
	RecUpgradeResponse    RecordType = 0x0A
	RecPreambleAck        RecordType = 0x0B
	RecPreambleEnd        RecordType = 0x0C
)

var recordNames = [...]string{
	"Version", "Mode", "Via", "KnownEncoding", "ExtensibleEncoding",
	"UnsizedEnvelope", "SizedEnvelope", "End", "Fault", "UpgradeRequest",
	"UpgradeResponse", "PreambleAck", "PreambleEnd",
}

func (r RecordType) String() string {
	if int(r) < len(recordNames) {
		return recordNames[r]
	}
	return fmt.Sprintf("RecordType(0x%02x)", byte(r))
}

// Mode is the communication mode a client asks for in its preamble.
type Mode byte

// The modes of [MC-NMF] section 2.2.3.2.
const (
	ModeSingletonUnsized Mode = 1
	ModeDuplex           Mode = 2
	ModeSimplex          Mode = 3
	ModeSingletonSized   Mode = 4
)

func (m Mode) String() string {
	switch m {
	case ModeSingletonUnsized:
		return "singleton-unsized"
	case ModeDuplex:
		return "duplex"
	case ModeSimplex:
		return "simplex"
	case ModeSingletonSized:
		return "singleton-sized"
	}
	return fmt.Sprintf("Mode(%d)", byte(m))
}

// Encoding is a known message encoding ([MC-NMF] section 2.2.3.4.1).
type Encoding byte

// The known encodings.
const (
	EncodingSoap11UTF8       Encoding = 0x00
	EncodingSoap11UTF16      Encoding = 0x01
	EncodingSoap11UnicodeLE  Encoding = 0x02
	EncodingSoap12UTF8       Encoding = 0x03 // UTF-8 text
	EncodingSoap12UTF16      Encoding = 0x04
	EncodingSoap12UnicodeLE  Encoding = 0x05
	EncodingSoap12MTOM       Encoding = 0x06
	EncodingSoap12Binary     Encoding = 0x07 // binary XML, static dictionary
	EncodingSoap12BinarySess Encoding = 0x08 // binary XML, in-band dictionary: NetTcpBinding's default
)

// ContentTypeSoap12UTF8 is the extensible-encoding content type equal to
// EncodingSoap12UTF8; servers accept it as that encoding.
const ContentTypeSoap12UTF8 = "application/soap+xml; charset=utf-8"

// The standard framing fault URIs a server sends in a Fault record before
// closing the connection.
const (
	FaultPrefix                  = "http://schemas.microsoft.com/ws/2006/05/framing/faults/"
	FaultConnectionDispatch      = FaultPrefix + "ConnectionDispatchFailed"
	FaultContentTypeInvalid      = FaultPrefix + "ContentTypeInvalid"
	FaultContentTypeTooLong      = FaultPrefix + "ContentTypeTooLong"
	FaultEndpointNotFound        = FaultPrefix + "EndpointNotFound"
	FaultEndpointUnavailable     = FaultPrefix + "EndpointUnavailable"
	FaultInvalidRecordSequence   = FaultPrefix + "InvalidRecordSequence"
	FaultMaxMessageSizeExceeded  = FaultPrefix + "MaxMessageSizeExceededFault"
	FaultServerTooBusy           = FaultPrefix + "ServerTooBusy"
	FaultServiceActivationFailed = FaultPrefix + "ServiceActivationFailed"
	FaultUnsupportedMode         = FaultPrefix + "UnsupportedMode"
	FaultUnsupportedVersion      = FaultPrefix + "UnsupportedVersion"
	FaultUpgradeInvalid          = FaultPrefix + "UpgradeInvalid"
	FaultViaTooLong              = FaultPrefix + "ViaTooLong"
)

// Error is a framing violation. Every one ends the session: the connection
// does not survive. Fault is the URI to send the peer in a Fault record
// before closing (empty when the peer is not to be told, for example when
// the peer itself sent a fault or the input ended).
type Error struct {
	Fault string
	Msg   string
}

func (e *Error) Error() string {
	if e.Fault == "" {
		return "nmf: " + e.Msg
	}
	return "nmf: " + e.Msg + " (fault " + e.Fault[len(FaultPrefix):] + ")"
}

// FaultError is a Fault record received from the peer: the session is over.
type FaultError struct{ URI string }

func (e *FaultError) Error() string { return "nmf: peer sent fault " + e.URI }

// ErrTruncated is returned by Decoder.Finish when the input ended inside a
// record.
var ErrTruncated = errors.New("nmf: input ended inside a record")

func errorf(fault, format string, args ...any) *Error {
	return &Error{Fault: fault, Msg: fmt.Sprintf(format, args...)}
}
