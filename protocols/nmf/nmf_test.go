package nmf

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSizeEncoding(t *testing.T) {
	// The examples of [MC-NMF] section 2.2.2.
	cases := []struct {
		n    int
		wire []byte
	}{
		{0x00, []byte{0x00}},
		{0x7F, []byte{0x7F}},
		{0x80, []byte{0x80, 0x01}},
		{0x3FFF, []byte{0xFF, 0x7F}},
		{0x4000, []byte{0x80, 0x80, 0x01}},
		{0x1FFFFF, []byte{0xFF, 0xFF, 0x7F}},
		{0x200000, []byte{0x80, 0x80, 0x80, 0x01}},
		{0x0FFFFFFF, []byte{0xFF, 0xFF, 0xFF, 0x7F}},
		{0x10000000, []byte{0x80, 0x80, 0x80, 0x80, 0x01}},
		{0x7FFFFFFF, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x07}},
	}
	for _, c := range cases {
		if got := AppendSize(nil, c.n); !bytes.Equal(got, c.wire) {
			t.Errorf("AppendSize(%#x) = % x, want % x", c.n, got, c.wire)
		}
		if l := SizeLen(c.n); l != len(c.wire) {
			t.Errorf("SizeLen(%#x) = %d, want %d", c.n, l, len(c.wire))
		}
		v, n, err := DecodeSize(c.wire)
		if err != nil || v != c.n || n != len(c.wire) {
			t.Errorf("DecodeSize(% x) = %#x, %d, %v", c.wire, v, n, err)
		}
		if _, n, _ := DecodeSize(c.wire[:len(c.wire)-1]); n != 0 {
			t.Errorf("DecodeSize of a partial % x used %d bytes", c.wire, n)
		}
	}
	for _, bad := range [][]byte{{0xFF, 0xFF, 0xFF, 0xFF, 0x08}, {0x80, 0x80, 0x80, 0x80, 0x80}} {
		if _, _, err := DecodeSize(bad); err == nil {
			t.Errorf("DecodeSize(% x) accepted a size over 31 bits", bad)
		}
	}
}

// decoded is a record with its slices copied and envelope data merged.
type decoded struct {
	Kind  Kind
	Major byte
	Minor byte
	Mode  Mode
	Enc   Encoding
	Text  string
	Data  string
	Size  int
}

func (r decoded) String() string { return fmt.Sprintf("%+v", struct{ decoded }{r}) }

// decodeAll feeds pieces to a decoder and collects what it yields.
func decodeAll(d *Decoder, pieces [][]byte) (out []decoded, err error) {
	var data []byte // envelope data, merged
	flush := func() {
		if data != nil {
			out = append(out, decoded{Kind: KindEnvelopeData, Data: string(data)})
			data = nil
		}
	}
	defer flush()
	for _, p := range pieces {
		for {
			r, n, err := d.Next(p)
			if err != nil {
				return out, err
			}
			if n > len(p) {
				return out, fmt.Errorf("consumed %d of %d bytes", n, len(p))
			}
			p = p[n:]
			if r.Kind == KindNone {
				if len(p) != 0 {
					return out, fmt.Errorf("KindNone with %d bytes left", len(p))
				}
				break
			}
			if r.Kind == KindEnvelopeData {
				data = append(data, r.Data...)
				continue
			}
			flush()
			out = append(out, decoded{r.Kind, r.Major, r.Minor, r.Mode, r.Encoding, string(r.Text), string(r.Data), r.Size})
		}
	}
	return out, d.Finish()
}

func split(b []byte, every int) [][]byte {
	var out [][]byte
	for len(b) > every {
		out = append(out, b[:every])
		b = b[every:]
	}
	return append(out, b)
}

const via = "net.tcp://localhost/example"

// duplexClient is a whole duplex session from the client's side, as in the
// example of [MC-NMF] section 4: preamble, two messages, End.
func duplexClient() ([]byte, []decoded) {
	b := AppendPreamble(nil, ModeDuplex, via, EncodingSoap12UTF8)
	b = AppendSizedEnvelope(b, []byte("<s:Envelope>one</s:Envelope>"))
	b = AppendSizedEnvelope(b, nil)
	b = AppendEnd(b)
	want := []decoded{
		{Kind: KindVersion, Major: 1},
		{Kind: KindMode, Mode: ModeDuplex},
		{Kind: KindVia, Text: via},
		{Kind: KindKnownEncoding, Enc: EncodingSoap12UTF8},
		{Kind: KindPreambleEnd},
		{Kind: KindEnvelopeStart, Size: 28},
		{Kind: KindEnvelopeData, Data: "<s:Envelope>one</s:Envelope>"},
		{Kind: KindEnvelopeEnd},
		{Kind: KindEnvelopeStart, Size: 0},
		{Kind: KindEnvelopeEnd},
		{Kind: KindEnd},
	}
	return b, want
}

func TestDecodeWireBytes(t *testing.T) {
	// The preamble bytes, spelled out as in [MC-NMF] section 4.
	want := append([]byte{0x00, 0x01, 0x00, 0x01, 0x02, 0x02, byte(len(via))}, via...)
	want = append(want, 0x03, 0x03, 0x0C)
	if got := AppendPreamble(nil, ModeDuplex, via, EncodingSoap12UTF8); !bytes.Equal(got, want) {
		t.Fatalf("preamble\n got % x\nwant % x", got, want)
	}
	if got := AppendFault(nil, FaultUnsupportedMode); got[0] != 0x08 || int(got[1]) != len(FaultUnsupportedMode) {
		t.Fatalf("fault record % x", got[:2])
	}
	unsized := AppendUnsizedEnvelopeStart(nil)
	unsized = AppendChunk(unsized, []byte("abc"))
	unsized = AppendChunk(unsized, nil)
	unsized = AppendChunk(unsized, []byte("de"))
	unsized = AppendUnsizedEnvelopeEnd(unsized)
	if !bytes.Equal(unsized, []byte{0x05, 0x03, 'a', 'b', 'c', 0x02, 'd', 'e', 0x00}) {
		t.Fatalf("unsized envelope % x", unsized)
	}
}

func TestDecodeAnySplit(t *testing.T) {
	wire, want := duplexClient()
	for every := 1; every <= len(wire); every++ {
		var d Decoder
		got, err := decodeAll(&d, split(wire, every))
		if err != nil {
			t.Fatalf("pieces of %d: %v", every, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pieces of %d:\n got %v\nwant %v", every, got, want)
		}
	}
}

func TestDecodeUnsized(t *testing.T) {
	b := AppendPreamble(nil, ModeSingletonUnsized, via, EncodingSoap12UTF8)
	b = AppendUnsizedEnvelopeStart(b)
	for i := 0; i < 300; i++ {
		b = AppendChunk(b, bytes.Repeat([]byte{'x'}, 200))
	}
	b = AppendUnsizedEnvelopeEnd(b)
	b = AppendEnd(b)
	for _, every := range []int{1, 7, 128, len(b)} {
		var d Decoder
		got, err := decodeAll(&d, split(b, every))
		if err != nil {
			t.Fatal(err)
		}
		kinds := []Kind{}
		for _, r := range got {
			kinds = append(kinds, r.Kind)
		}
		wantKinds := []Kind{KindVersion, KindMode, KindVia, KindKnownEncoding, KindPreambleEnd, KindEnvelopeStart, KindEnvelopeData, KindEnvelopeEnd, KindEnd}
		if !reflect.DeepEqual(kinds, wantKinds) || got[5].Size != -1 || len(got[6].Data) != 60000 {
			t.Fatalf("pieces of %d: %v", every, kinds)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("v", DefaultMaxString+1)
	cases := []struct {
		name  string
		wire  []byte
		limit int
		fault string
	}{
		{"unknown record type", []byte{0x0D}, 0, FaultInvalidRecordSequence},
		{"via over the limit", AppendVia(nil, long), 0, FaultViaTooLong},
		{"content type over the limit", AppendExtensibleEncoding(nil, long), 0, FaultContentTypeTooLong},
		{"empty via", []byte{0x02, 0x00}, 0, FaultEndpointNotFound},
		{"size over 31 bits", []byte{0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 0, FaultInvalidRecordSequence},
		{"sized envelope over the limit", AppendSizedEnvelope(nil, make([]byte, 65)), 64, FaultMaxMessageSizeExceeded},
		{"unsized envelope over the limit", AppendChunk(AppendChunk([]byte{0x05}, make([]byte, 40)), make([]byte, 40)), 64, FaultMaxMessageSizeExceeded},
	}
	for _, c := range cases {
		d := Decoder{MaxEnvelope: c.limit}
		_, err := decodeAll(&d, [][]byte{c.wire})
		var fe *Error
		if !errors.As(err, &fe) || fe.Fault != c.fault {
			t.Errorf("%s: got %v, want fault %s", c.name, err, c.fault)
		}
		// Stays failed.
		if _, _, err2 := d.Next([]byte{0x07}); err2 == nil {
			t.Errorf("%s: decoder recovered after an error", c.name)
		}
	}
}

func TestDecodeTruncated(t *testing.T) {
	wire, _ := duplexClient()
	for cut := 1; cut < len(wire); cut++ {
		var d Decoder
		_, err := decodeAll(&d, [][]byte{wire[:cut]})
		// Cutting between records is a clean end; inside one is truncation.
		if err != nil && !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	var d Decoder
	if _, err := decodeAll(&d, [][]byte{wire[:len(wire)-10]}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("cut inside an envelope: %v", err)
	}
}

// serve runs a server machine over a client's bytes and returns the reply
// bytes and the error that ended it.
func serve(cfg ServerConfig, wire []byte) (*Server, []byte, error) {
	s := NewServer(cfg)
	var d Decoder
	var out []byte
	p := wire
	for {
		r, n, err := d.Next(p)
		p = p[n:]
		if err != nil {
			return s, out, err
		}
		if r.Kind == KindNone {
			return s, out, nil
		}
		if out, err = s.Receive(&r, out); err != nil {
			return s, out, err
		}
	}
}

func TestServerSession(t *testing.T) {
	wire, _ := duplexClient()
	s, out, err := serve(ServerConfig{CheckVia: func(v string) bool { return v == via }}, wire)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, []byte{0x0B, 0x07}) || !s.Ended() || s.Via != via || s.Mode != ModeDuplex {
		t.Fatalf("replies % x, ended %v, via %q", out, s.Ended(), s.Via)
	}
}

func TestServerSingletonReusedConnection(t *testing.T) {
	one := AppendPreamble(nil, ModeSingletonUnsized, via, EncodingSoap12UTF8)
	one = AppendUnsizedEnvelopeStart(one)
	one = AppendChunk(one, []byte("<x/>"))
	one = AppendUnsizedEnvelopeEnd(one)
	one = AppendEnd(one)
	wire := append(append([]byte{}, one...), one...)
	_, out, err := serve(ServerConfig{Singleton: true}, wire)
	if err != nil || !bytes.Equal(out, []byte{0x0B, 0x07, 0x0B, 0x07}) {
		t.Fatalf("replies % x, %v", out, err)
	}
	if _, _, err := serve(ServerConfig{}, one); !isFault(err, FaultUnsupportedMode) {
		t.Fatalf("singleton not enabled: %v", err)
	}
}

func isFault(err error, uri string) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Fault == uri
}

func TestServerRefuses(t *testing.T) {
	pre := func(edit func(b []byte) []byte) []byte {
		return edit(nil)
	}
	cases := []struct {
		name  string
		wire  []byte
		fault string
	}{
		{"version 2.0", pre(func(b []byte) []byte { return append(b, 0x00, 2, 0) }), FaultUnsupportedVersion},
		{"no version", AppendMode(nil, ModeDuplex), FaultInvalidRecordSequence},
		{"simplex mode", pre(func(b []byte) []byte { return AppendMode(AppendVersion(b), ModeSimplex) }), FaultUnsupportedMode},
		{"wrong via", AppendVia(AppendMode(AppendVersion(nil), ModeDuplex), "net.tcp://h/other"), FaultEndpointNotFound},
		{"binary encoding", AppendPreamble(nil, ModeDuplex, via, EncodingSoap12BinarySess), FaultContentTypeInvalid},
		{"other content type", AppendExtensibleEncoding(AppendVia(AppendMode(AppendVersion(nil), ModeDuplex), via), "text/plain"), FaultContentTypeInvalid},
		{"upgrade request", AppendUpgradeRequest(AppendKnownEncoding(AppendVia(AppendMode(AppendVersion(nil), ModeDuplex), via), EncodingSoap12UTF8), "application/negotiate"), FaultUpgradeInvalid},
		{"envelope before preamble end", AppendSizedEnvelope(AppendKnownEncoding(AppendVia(AppendMode(AppendVersion(nil), ModeDuplex), via), EncodingSoap12UTF8), []byte("x")), FaultInvalidRecordSequence},
		{"unsized envelope in duplex", AppendChunk(AppendUnsizedEnvelopeStart(AppendPreamble(nil, ModeDuplex, via, EncodingSoap12UTF8)), []byte("x")), FaultInvalidRecordSequence},
		{"version twice", AppendVersion(AppendPreamble(nil, ModeDuplex, via, EncodingSoap12UTF8)), FaultInvalidRecordSequence},
	}
	for _, c := range cases {
		_, out, err := serve(ServerConfig{CheckVia: func(v string) bool { return v == via }}, c.wire)
		if !isFault(err, c.fault) {
			t.Errorf("%s: got %v, want fault %s", c.name, err, c.fault)
		}
		if bytes.Contains(out, []byte{0x0B}) && c.fault != FaultInvalidRecordSequence {
			t.Errorf("%s: acknowledged the preamble", c.name)
		}
	}
	// Content type matched loosely; extensible encoding for text accepted.
	wire := AppendPreambleEnd(AppendExtensibleEncoding(AppendVia(AppendMode(AppendVersion(nil), ModeDuplex), via), "application/soap+xml;charset=UTF-8"))
	if s, out, err := serve(ServerConfig{}, wire); err != nil || !bytes.Equal(out, []byte{0x0B}) || s.Encoding != EncodingSoap12UTF8 || !s.Open() {
		t.Fatalf("extensible text encoding: % x %v", out, err)
	}
	// A fault from the client ends the session with a FaultError.
	_, _, err := serve(ServerConfig{}, AppendFault(nil, FaultServerTooBusy))
	var pf *FaultError
	if !errors.As(err, &pf) || pf.URI != FaultServerTooBusy {
		t.Fatalf("client fault: %v", err)
	}
}

func TestClientSession(t *testing.T) {
	var c Client
	pre := c.Preamble(nil, ModeDuplex, via, EncodingSoap12UTF8)
	if !bytes.HasSuffix(pre, []byte{0x03, 0x03, 0x0C}) {
		t.Fatalf("preamble % x", pre)
	}
	server := AppendPreambleAck(nil)
	server = AppendSizedEnvelope(server, []byte("reply"))
	server = AppendEnd(server) // the server closes first
	var d Decoder
	var out []byte
	p := server
	for {
		r, n, err := d.Next(p)
		p = p[n:]
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == KindNone {
			break
		}
		if out, err = c.Receive(&r, out); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Ended() || !bytes.Equal(out, []byte{0x07}) {
		t.Fatalf("ended %v, answered % x", c.Ended(), out)
	}
	// A fault during the preamble.
	var c2 Client
	c2.Preamble(nil, ModeDuplex, via, EncodingSoap12UTF8)
	r := Record{Kind: KindFault, Text: []byte(FaultEndpointNotFound)}
	var fe *FaultError
	if _, err := c2.Receive(&r, nil); !errors.As(err, &fe) || fe.URI != FaultEndpointNotFound {
		t.Fatalf("fault: %v", err)
	}
	// An envelope before the ack is a protocol error.
	var c3 Client
	c3.Preamble(nil, ModeDuplex, via, EncodingSoap12UTF8)
	r = Record{Kind: KindEnvelopeStart, Size: 3}
	if _, err := c3.Receive(&r, nil); err == nil {
		t.Fatal("envelope before the ack accepted")
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	wire, _ := duplexClient()
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		p := wire
		for {
			r, n, err := d.Next(p)
			p = p[n:]
			if err != nil || r.Kind == KindNone {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per session", allocs)
	}
}

func FuzzDecoder(f *testing.F) {
	wire, _ := duplexClient()
	f.Add(wire, uint8(1))
	f.Add(wire, uint8(13))
	unsized := AppendChunk(AppendUnsizedEnvelopeStart(AppendPreamble(nil, ModeSingletonUnsized, via, EncodingSoap12UTF8)), []byte("<a/>"))
	f.Add(AppendEnd(AppendUnsizedEnvelopeEnd(unsized)), uint8(3))
	f.Add(AppendFault(nil, FaultEndpointNotFound), uint8(2))
	f.Add([]byte{0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}, uint8(4))
	f.Fuzz(func(t *testing.T, wire []byte, every uint8) {
		d1 := Decoder{MaxEnvelope: 1 << 16}
		whole, err1 := decodeAll(&d1, [][]byte{wire})
		d2 := Decoder{MaxEnvelope: 1 << 16}
		pieces, err2 := decodeAll(&d2, split(wire, int(every)+1))
		// The split never changes the outcome.
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(whole, pieces) {
			t.Fatalf("whole: %v %v\npieces: %v %v", whole, err1, pieces, err2)
		}
		if err1 != nil {
			return
		}
		// A clean decode re-encodes to records that decode the same.
		var b []byte
		unsized := false
		for _, r := range whole {
			switch r.Kind {
			case KindVersion:
				b = append(b, 0, r.Major, r.Minor)
			case KindMode:
				b = AppendMode(b, r.Mode)
			case KindVia:
				b = AppendVia(b, r.Text)
			case KindKnownEncoding:
				b = AppendKnownEncoding(b, r.Enc)
			case KindExtensibleEncoding:
				b = AppendExtensibleEncoding(b, r.Text)
			case KindUpgradeRequest:
				b = AppendUpgradeRequest(b, r.Text)
			case KindUpgradeResponse:
				b = AppendUpgradeResponse(b)
			case KindPreambleAck:
				b = AppendPreambleAck(b)
			case KindPreambleEnd:
				b = AppendPreambleEnd(b)
			case KindFault:
				b = AppendFault(b, r.Text)
			case KindEnd:
				b = AppendEnd(b)
			case KindEnvelopeStart:
				unsized = r.Size < 0
				if unsized {
					b = AppendUnsizedEnvelopeStart(b)
				} else {
					b = AppendSizedEnvelopeHeader(b, r.Size)
				}
			case KindEnvelopeData:
				if unsized {
					b = AppendChunk(b, []byte(r.Data))
				} else {
					b = append(b, r.Data...)
				}
			case KindEnvelopeEnd:
				if unsized {
					b = AppendUnsizedEnvelopeEnd(b)
				}
			}
		}
		d3 := Decoder{MaxEnvelope: 1 << 16}
		again, err := decodeAll(&d3, [][]byte{b})
		if err != nil || !reflect.DeepEqual(again, whole) {
			t.Fatalf("re-encoded % x decodes to %v, %v; want %v", b, again, err, whole)
		}
	})
}
