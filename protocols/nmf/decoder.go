// Decoding: a byte-at-a-time state machine in the style of nats-server's
// parser. Input arrives in pieces of any size; partial records are kept as
// state, not copies, except short strings (via, content type, fault URI)
// split across pieces, which are gathered in a buffer bounded by MaxString.

package nmf

// Kind says what a Record is.
type Kind uint8

// The kinds of record the Decoder yields. A message (envelope) comes as
// EnvelopeStart, any number of EnvelopeData pieces, and EnvelopeEnd.
const (
	KindNone Kind = iota // no complete record yet: give more input
	KindVersion
	KindMode
	KindVia
	KindKnownEncoding
	KindExtensibleEncoding
	KindUpgradeRequest
	KindUpgradeResponse
	KindPreambleAck
	KindPreambleEnd
	KindEnvelopeStart
	KindEnvelopeData
	KindEnvelopeEnd
	KindEnd
	KindFault
)

var kindNames = [...]string{
	"None", "Version", "Mode", "Via", "KnownEncoding", "ExtensibleEncoding",
	"UpgradeRequest", "UpgradeResponse", "PreambleAck", "PreambleEnd",
	"EnvelopeStart", "EnvelopeData", "EnvelopeEnd", "End", "Fault",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Record is one decoded record, or one piece of an envelope.
type Record struct {
	Kind         Kind
	Major, Minor byte     // KindVersion
	Mode         Mode     // KindMode
	Encoding     Encoding // KindKnownEncoding
	// Text is the string of a Via, ExtensibleEncoding, UpgradeRequest or
	// Fault record. It aliases the input or the decoder's buffer and is
	// valid only until the next call to Next.
	Text []byte
	// Data is a piece of the envelope's payload (KindEnvelopeData). It
	// aliases the input.
	Data []byte
	// Size is the payload size at KindEnvelopeStart, -1 for an unsized
	// envelope.
	Size int
}

// DefaultMaxString bounds via, content-type, upgrade and fault strings.
const DefaultMaxString = 2048

type dstate uint8

const (
	dRecord dstate = iota
	dMajor
	dMinor
	dMode
	dEncoding
	dStrSize
	dStr
	dEnvSize
	dEnvData
	dEnvEnd
	dChunkSize
	dChunkData
	dFailed
)

// Decoder decodes a stream of framing records. The zero value is ready,
// with DefaultMaxString and no envelope limit. It checks record syntax and
// sizes only; which record may come when is the Server's and Client's job.
type Decoder struct {
	// MaxString bounds string records (0 = DefaultMaxString).
	MaxString int
	// MaxEnvelope bounds a message's payload, sized or unsized (0 = no
	// bound besides MaxSize). A bigger one is a MaxMessageSizeExceeded
	// error.
	MaxEnvelope int

	st       dstate
	rec      RecordType
	size     sizeReader
	remain   int // bytes left in the string, envelope or chunk
	envTotal int // unsized: payload bytes so far
	str      []byte
	major    byte
	err      error
}

// Next decodes from p. It returns the next record and how many bytes of p
// it consumed. KindNone means p is used up (n == len(p)) without completing
// a record: call again with more input. Call Next until it returns KindNone
// (EnvelopeEnd can follow the last data piece with no input left). After an
// error the decoder stays failed.
func (d *Decoder) Next(p []byte) (Record, int, error) {
	if d.err != nil {
		return Record{}, 0, d.err
	}
	i := 0
	for {
		switch d.st {
		case dEnvEnd:
			d.st = dRecord
			return Record{Kind: KindEnvelopeEnd}, i, nil
		case dEnvData, dChunkData: // remain > 0 here
			if i == len(p) {
				return Record{}, i, nil
			}
			n := min(d.remain, len(p)-i)
			d.remain -= n
			data := p[i : i+n]
			i += n
			if d.remain == 0 {
				if d.st == dEnvData {
					d.st = dEnvEnd
				} else {
					d.st = dChunkSize
				}
			}
			return Record{Kind: KindEnvelopeData, Data: data}, i, nil
		case dStr:
			if d.remain == 0 {
				return d.stringRecord(nil), i, nil
			}
			if i == len(p) {
				return Record{}, i, nil
			}
			if len(d.str) == 0 && len(p)-i >= d.remain {
				// The whole string is here: no copy.
				s := p[i : i+d.remain]
				i += d.remain
				d.remain = 0
				return d.stringRecord(s), i, nil
			}
			n := min(d.remain, len(p)-i)
			d.str = append(d.str, p[i:i+n]...)
			d.remain -= n
			i += n
			continue
		}
		if i == len(p) {
			return Record{}, i, nil
		}
		c := p[i]
		i++
		switch d.st {
		case dRecord:
			d.rec = RecordType(c)
			switch d.rec {
			case RecVersion:
				d.st = dMajor
			case RecMode:
				d.st = dMode
			case RecKnownEncoding:
				d.st = dEncoding
			case RecVia, RecExtensibleEncoding, RecUpgradeRequest, RecFault:
				d.st = dStrSize
			case RecSizedEnvelope:
				d.st = dEnvSize
			case RecUnsizedEnvelope:
				d.st, d.envTotal = dChunkSize, 0
				return Record{Kind: KindEnvelopeStart, Size: -1}, i, nil
			case RecEnd:
				return Record{Kind: KindEnd}, i, nil
			case RecUpgradeResponse:
				return Record{Kind: KindUpgradeResponse}, i, nil
			case RecPreambleAck:
				return Record{Kind: KindPreambleAck}, i, nil
			case RecPreambleEnd:
				return Record{Kind: KindPreambleEnd}, i, nil
			default:
				return d.fail(i, errorf(FaultInvalidRecordSequence, "unknown record type 0x%02x", c))
			}
		case dMajor:
			d.major, d.st = c, dMinor
		case dMinor:
			d.st = dRecord
			return Record{Kind: KindVersion, Major: d.major, Minor: c}, i, nil
		case dMode:
			d.st = dRecord
			return Record{Kind: KindMode, Mode: Mode(c)}, i, nil
		case dEncoding:
			d.st = dRecord
			return Record{Kind: KindKnownEncoding, Encoding: Encoding(c)}, i, nil
		case dStrSize, dEnvSize, dChunkSize:
			v, done, err := d.size.feed(c)
			if err != nil {
				return d.fail(i, err)
			}
			if !done {
				continue
			}
			switch d.st {
			case dStrSize:
				if max := d.maxString(); v > max {
					return d.fail(i, errorf(tooLongFault(d.rec), "%v record of %d bytes, over the limit of %d", d.rec, v, max))
				}
				if v == 0 && d.rec != RecFault {
					return d.fail(i, errorf(emptyFault(d.rec), "empty %v record", d.rec))
				}
				d.st, d.remain, d.str = dStr, v, d.str[:0]
			case dEnvSize:
				if d.MaxEnvelope > 0 && v > d.MaxEnvelope {
					return d.fail(i, errorf(FaultMaxMessageSizeExceeded, "sized envelope of %d bytes, over the limit of %d", v, d.MaxEnvelope))
				}
				d.st, d.remain = dEnvData, v
				if v == 0 {
					d.st = dEnvEnd
				}
				return Record{Kind: KindEnvelopeStart, Size: v}, i, nil
			case dChunkSize:
				if v == 0 {
					d.st = dEnvEnd
					continue
				}
				d.envTotal += v
				if d.MaxEnvelope > 0 && d.envTotal > d.MaxEnvelope {
					return d.fail(i, errorf(FaultMaxMessageSizeExceeded, "unsized envelope passed the limit of %d bytes", d.MaxEnvelope))
				}
				d.st, d.remain = dChunkData, v
			}
		}
	}
}

// Finish reports whether the input may end here: ErrTruncated if it ended
// inside a record (or envelope), nil between records.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.st != dRecord {
		return ErrTruncated
	}
	return nil
}

// InEnvelope reports whether the decoder is inside an envelope's payload.
func (d *Decoder) InEnvelope() bool {
	switch d.st {
	case dEnvData, dEnvEnd, dChunkSize, dChunkData:
		return true
	}
	return false
}

// Reset makes the decoder ready for a new stream, keeping its limits.
func (d *Decoder) Reset() {
	*d = Decoder{MaxString: d.MaxString, MaxEnvelope: d.MaxEnvelope, str: d.str[:0]}
}

func (d *Decoder) maxString() int {
	if d.MaxString > 0 {
		return d.MaxString
	}
	return DefaultMaxString
}

func (d *Decoder) fail(i int, err *Error) (Record, int, error) {
	d.st, d.err = dFailed, err
	return Record{}, i, err
}

func (d *Decoder) stringRecord(s []byte) Record {
	if s == nil {
		s = d.str
	}
	d.st = dRecord
	r := Record{Text: s}
	switch d.rec {
	case RecVia:
		r.Kind = KindVia
	case RecExtensibleEncoding:
		r.Kind = KindExtensibleEncoding
	case RecUpgradeRequest:
		r.Kind = KindUpgradeRequest
	case RecFault:
		r.Kind = KindFault
	}
	return r
}

func tooLongFault(r RecordType) string {
	switch r {
	case RecVia:
		return FaultViaTooLong
	case RecExtensibleEncoding:
		return FaultContentTypeTooLong
	case RecUpgradeRequest:
		return FaultUpgradeInvalid
	}
	return "" // a fault from the peer: nothing to tell it
}

func emptyFault(r RecordType) string {
	switch r {
	case RecVia:
		return FaultEndpointNotFound
	case RecExtensibleEncoding:
		return FaultContentTypeInvalid
	}
	return FaultUpgradeInvalid
}
