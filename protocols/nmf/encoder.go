// Encoding: each function appends one record to b and returns the result.

package nmf

// AppendVersion appends a Version record for 1.0.
func AppendVersion(b []byte) []byte { return append(b, byte(RecVersion), 1, 0) }

// AppendMode appends a Mode record.
func AppendMode(b []byte, m Mode) []byte { return append(b, byte(RecMode), byte(m)) }

// AppendVia appends a Via record carrying the endpoint URI.
func AppendVia(b []byte, via string) []byte { return appendString(b, RecVia, via) }

// AppendKnownEncoding appends a KnownEncoding record.
func AppendKnownEncoding(b []byte, e Encoding) []byte {
	return append(b, byte(RecKnownEncoding), byte(e))
}

// AppendExtensibleEncoding appends an ExtensibleEncoding record carrying a
// MIME content type.
func AppendExtensibleEncoding(b []byte, contentType string) []byte {
	return appendString(b, RecExtensibleEncoding, contentType)
}

// AppendUpgradeRequest appends an UpgradeRequest record naming a protocol
// ("application/negotiate", "application/ssl-tls").
func AppendUpgradeRequest(b []byte, protocol string) []byte {
	return appendString(b, RecUpgradeRequest, protocol)
}

// AppendUpgradeResponse appends an UpgradeResponse record.
func AppendUpgradeResponse(b []byte) []byte { return append(b, byte(RecUpgradeResponse)) }

// AppendPreambleEnd appends a PreambleEnd record.
func AppendPreambleEnd(b []byte) []byte { return append(b, byte(RecPreambleEnd)) }

// AppendPreambleAck appends a PreambleAck record.
func AppendPreambleAck(b []byte) []byte { return append(b, byte(RecPreambleAck)) }

// AppendPreamble appends a whole client preamble: Version, Mode, Via,
// KnownEncoding, PreambleEnd.
func AppendPreamble(b []byte, m Mode, via string, e Encoding) []byte {
	b = AppendVersion(b)
	b = AppendMode(b, m)
	b = AppendVia(b, via)
	b = AppendKnownEncoding(b, e)
	return AppendPreambleEnd(b)
}

// AppendSizedEnvelopeHeader appends the record type and size of a
// SizedEnvelope whose n payload bytes the caller sends next (as another
// buffer of a vectored send, or appended).
func AppendSizedEnvelopeHeader(b []byte, n int) []byte {
	return AppendSize(append(b, byte(RecSizedEnvelope)), n)
}

// AppendSizedEnvelope appends a whole SizedEnvelope record.
func AppendSizedEnvelope(b, payload []byte) []byte {
	return append(AppendSizedEnvelopeHeader(b, len(payload)), payload...)
}

// AppendUnsizedEnvelopeStart appends the UnsizedEnvelope record type; the
// chunks follow, then AppendUnsizedEnvelopeEnd.
func AppendUnsizedEnvelopeStart(b []byte) []byte { return append(b, byte(RecUnsizedEnvelope)) }

// AppendChunk appends one data chunk of an unsized envelope. An empty chunk
// is not written: a zero size ends the envelope.
func AppendChunk(b, data []byte) []byte {
	if len(data) == 0 {
		return b
	}
	return append(AppendSize(b, len(data)), data...)
}

// AppendUnsizedEnvelopeEnd appends the zero-size chunk that ends an unsized
// envelope.
func AppendUnsizedEnvelopeEnd(b []byte) []byte { return append(b, 0) }

// AppendEnd appends an End record.
func AppendEnd(b []byte) []byte { return append(b, byte(RecEnd)) }

// AppendFault appends a Fault record carrying a fault URI.
func AppendFault(b []byte, uri string) []byte { return appendString(b, RecFault, uri) }

func appendString(b []byte, t RecordType, s string) []byte {
	b = AppendSize(append(b, byte(t)), len(s))
	return append(b, s...)
}
