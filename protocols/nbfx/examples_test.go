// The structure examples of [MC-NBFX] section 3 and [MC-NBFSE] section 3,
// byte for byte, read and (where the writer emits those records) written.

package nbfx

import (
	"bytes"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overlap-go/overlap/protocols/soap"
)

// strDict is the examples' dictionary: id N is the string "strN".
type strDict struct{}

func (strDict) Lookup(id int) (string, bool) { return "str" + strconv.Itoa(id), true }

func (strDict) ID(s string) (int, bool) {
	if !strings.HasPrefix(s, "str") {
		return 0, false
	}
	n, err := strconv.Atoi(s[3:])
	return n, err == nil
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func name(n soap.Name) string {
	if len(n.Space) == 0 {
		return string(n.Local)
	}
	return "{" + string(n.Space) + "}" + string(n.Local)
}

// render reads every token of r as a compact text: <{ns}local a="v">,
// text, </{ns}local>. Names carry their namespace, not their prefix.
func render(r soap.TokenReader) (string, error) {
	var sb strings.Builder
	for {
		tok, err := r.Next()
		if err == io.EOF {
			return sb.String(), nil
		}
		if err != nil {
			return sb.String(), err
		}
		switch tok.Kind {
		case soap.StartElement:
			sb.WriteString("<" + name(tok.Name))
			for _, a := range tok.Attrs {
				sb.WriteString(" " + name(a.Name) + `="` + string(a.Value) + `"`)
			}
			sb.WriteString(">")
		case soap.EndElement:
			sb.WriteString("</" + name(tok.Name) + ">")
		case soap.Text:
			sb.Write(tok.Text)
		}
	}
}

// oneByte reads one byte at a time, so every record is split everywhere.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// The examples, with the characters each one represents. Dictionary
// strings are "strN". Three are fragments with several top-level elements
// (Array, BoolTextWithEndElement) or none (Comment, given an element here).
var nbfxExamples = []struct{ name, hex, want string }{
	{"EndElement", "40 03 64 6F 63 01", "<doc></doc>"},
	{"Comment", "02 07 63 6F 6D 6D 65 6E 74 40 03 64 6F 63 01", "<doc></doc>"},
	{"Array", "03 40 03 61 72 72 01 8B 03 33 33 88 88 DD DD",
		"<arr>13107</arr><arr>-30584</arr><arr>-8739</arr>"},
	{"ShortAttribute", "40 03 64 6F 63 04 04 61 74 74 72 84 01", `<doc attr="false"></doc>`},
	{"Attribute", "40 03 64 6F 63 09 03 70 72 65 0A 68 74 74 70 3A 2F 2F 61 62 63 05 03 70 72 65 04 61 74 74 72 84 01",
		`<doc {http://abc}attr="false"></doc>`},
	{"ShortDictionaryAttribute", "40 03 64 6F 63 06 08 86 01", `<doc str8="true"></doc>`},
	{"DictionaryAttribute", "40 03 64 6F 63 09 03 70 72 65 0A 68 74 74 70 3A 2F 2F 61 62 63 07 03 70 72 65 00 86 01",
		`<doc {http://abc}str0="true"></doc>`},
	{"ShortXmlnsAttribute", "40 03 64 6F 63 08 0A 68 74 74 70 3A 2F 2F 61 62 63 01", `<{http://abc}doc></{http://abc}doc>`},
	{"XmlnsAttribute", "40 03 64 6F 63 09 01 70 0A 68 74 74 70 3A 2F 2F 61 62 63 01", `<doc></doc>`},
	{"ShortDictionaryXmlnsAttribute", "40 03 64 6F 63 0A 04 01", `<{str4}doc></{str4}doc>`},
	{"DictionaryXmlnsAttribute", "40 03 64 6F 63 0B 01 70 04 01", `<doc></doc>`},
	{"PrefixDictionaryAttributeF", "40 03 64 6F 63 09 01 66 0A 68 74 74 70 3A 2F 2F 61 62 63 11 0B 98 05 68 65 6C 6C 6F 01",
		`<doc {http://abc}str11="hello"></doc>`},
	{"PrefixDictionaryAttributeX", "40 03 64 6F 63 09 01 78 0A 68 74 74 70 3A 2F 2F 61 62 63 23 15 98 05 77 6F 72 6C 64 01",
		`<doc {http://abc}str21="world"></doc>`},
	{"PrefixAttributeK", "40 03 64 6F 63 09 01 6B 0A 68 74 74 70 3A 2F 2F 61 62 63 30 04 61 74 74 72 86 01",
		`<doc {http://abc}attr="true"></doc>`},
	{"PrefixAttributeZ", "40 03 64 6F 63 09 01 7A 0A 68 74 74 70 3A 2F 2F 61 62 63 3F 03 61 62 63 98 03 78 79 7A 01",
		`<doc {http://abc}abc="xyz"></doc>`},
	{"ShortElement", "40 03 64 6F 63 01", "<doc></doc>"},
	{"Element", "41 03 70 72 65 03 64 6F 63 09 03 70 72 65 0A 68 74 74 70 3A 2F 2F 61 62 63 01",
		"<{http://abc}doc></{http://abc}doc>"},
	{"ShortDictionaryElement", "42 0E 01", "<str14></str14>"},
	{"DictionaryElement", "43 03 70 72 65 0E 09 03 70 72 65 0A 68 74 74 70 3A 2F 2F 61 62 63 01",
		"<{http://abc}str14></{http://abc}str14>"},
	{"PrefixDictionaryElementA", "44 0A 09 01 61 0A 68 74 74 70 3A 2F 2F 61 62 63 01", "<{http://abc}str10></{http://abc}str10>"},
	{"PrefixDictionaryElementS", "56 26 09 01 73 0A 68 74 74 70 3A 2F 2F 61 62 63 01", "<{http://abc}str38></{http://abc}str38>"},
	{"PrefixElementA", "5E 05 68 65 6C 6C 6F 09 01 61 0A 68 74 74 70 3A 2F 2F 61 62 63 01", "<{http://abc}hello></{http://abc}hello>"},
	{"PrefixElementS", "70 09 4D 79 4D 65 73 73 61 67 65 09 01 73 0A 68 74 74 70 3A 2F 2F 61 62 63 01",
		"<{http://abc}MyMessage></{http://abc}MyMessage>"},
	{"ZeroText", "40 03 64 6F 63 06 A0 03 80 01", `<doc str416="0"></doc>`},
	{"ZeroTextWithEndElement", "40 03 61 62 63 81", "<abc>0</abc>"},
	{"OneText", "40 03 64 6F 63 06 00 82 01", `<doc str0="1"></doc>`},
	{"OneTextWithEndElement", "40 03 61 62 63 83", "<abc>1</abc>"},
	{"FalseText", "40 03 64 6F 63 06 00 84 01", `<doc str0="false"></doc>`},
	{"FalseTextWithEndElement", "40 03 61 62 63 85", "<abc>false</abc>"},
	{"TrueText", "40 03 64 6F 63 06 00 86 01", `<doc str0="true"></doc>`},
	{"TrueTextWithEndElement", "40 03 61 62 63 87", "<abc>true</abc>"},
	{"Int8Text", "40 03 64 6F 63 06 EC 01 88 DE 01", `<doc str236="-34"></doc>`},
	{"Int8TextWithEndElement", "42 9A 01 89 7F", "<str154>127</str154>"},
	{"Int16Text", "40 03 64 6F 63 06 EC 01 8A 00 80 01", `<doc str236="-32768"></doc>`},
	{"Int16TextWithEndElement", "42 9A 01 8B FF 7F", "<str154>32767</str154>"},
	{"Int32Text", "40 03 64 6F 63 06 EC 01 8C 15 CD 5B 07 01", `<doc str236="123456789"></doc>`},
	{"Int32TextWithEndElement", "42 9A 01 8D FF FF FF 7F", "<str154>2147483647</str154>"},
	{"Int64Text", "40 03 64 6F 63 06 EC 01 8E 00 00 00 80 00 00 00 00 01", `<doc str236="2147483648"></doc>`},
	{"Int64TextWithEndElement", "42 9A 01 8F 00 00 00 00 00 01 00 00", "<str154>1099511627776</str154>"},
	{"FloatText", "40 03 64 6F 63 04 01 61 90 CD CC 8C 3F 01", `<doc a="1.1"></doc>`},
	{"FloatTextWithEndElement", "40 05 50 72 69 63 65 91 CD CC 01 42", "<Price>32.45</Price>"},
	{"DoubleText", "40 03 64 6F 63 04 01 61 92 74 57 14 8B 0A BF 05 40 01", `<doc a="2.71828182845905"></doc>`},
	{"DoubleTextWithEndElement", "40 02 50 49 93 11 2D 44 54 FB 21 09 40", "<PI>3.14159265358979</PI>"},
	{"DecimalText", "40 03 64 6F 63 04 03 69 6E 74 94 00 00 06 00 00 00 00 00 80 2D 4E 00 00 00 00 00 01",
		`<doc int="5.123456"></doc>`},
	{"DecimalTextWithEndElement", "40 08 4D 61 78 56 61 6C 75 65 95 00 00 00 00 FF FF FF FF FF FF FF FF FF FF FF FF",
		"<MaxValue>79228162514264337593543950335</MaxValue>"},
	{"DateTimeText", "40 03 64 6F 63 06 6E 96 FF 3F 37 F4 75 28 CA 2B 01", `<doc str110="9999-12-31T23:59:59.9999999"></doc>`},
	{"DateTimeTextWithEndElement", "42 6C 97 00 40 8E F9 5B 47 C8 08", "<str108>2006-05-17T00:00:00</str108>"},
	{"Chars8Text", "40 03 64 6F 63 98 05 68 65 6C 6C 6F 01", "<doc>hello</doc>"},
	{"Chars8TextWithEndElement", "40 01 61 99 05 68 65 6C 6C 6F", "<a>hello</a>"},
	{"Chars16Text", "40 03 64 6F 63 9A 05 00 68 65 6C 6C 6F 01", "<doc>hello</doc>"},
	{"Chars16TextWithEndElement", "40 01 61 9B 05 00 68 65 6C 6C 6F", "<a>hello</a>"},
	{"Chars32Text", "40 03 64 6F 63 9C 05 00 00 00 68 65 6C 6C 6F 01", "<doc>hello</doc>"},
	{"Chars32TextWithEndElement", "40 01 61 9D 05 00 00 00 68 65 6C 6C 6F", "<a>hello</a>"},
	{"Bytes8Text", "40 03 64 6F 63 9E 08 00 01 02 03 04 05 06 07 01", "<doc>AAECAwQFBgc=</doc>"},
	{"Bytes8TextWithEndElement", "40 06 42 61 73 65 36 34 9F 08 00 01 02 03 04 05 06 07", "<Base64>AAECAwQFBgc=</Base64>"},
	{"Bytes16Text", "40 03 64 6F 63 A0 08 00 00 01 02 03 04 05 06 07 01", "<doc>AAECAwQFBgc=</doc>"},
	{"Bytes16TextWithEndElement", "40 06 42 61 73 65 36 34 A1 08 00 00 01 02 03 04 05 06 07", "<Base64>AAECAwQFBgc=</Base64>"},
	{"Bytes32Text", "40 03 64 6F 63 A2 08 00 00 00 00 01 02 03 04 05 06 07 01", "<doc>AAECAwQFBgc=</doc>"},
	{"Bytes32TextWithEndElement", "40 06 42 61 73 65 36 34 A3 08 00 00 00 00 01 02 03 04 05 06 07", "<Base64>AAECAwQFBgc=</Base64>"},
	{"StartListText", "40 03 64 6F 63 04 01 61 A4 88 7B 98 05 68 65 6C 6C 6F 86 A6 01", `<doc a="123 hello true"></doc>`},
	{"EmptyText", "40 03 64 6F 63 04 01 61 A8 01", `<doc a=""></doc>`},
	{"EmptyTextWithEndElement", "40 03 64 6F 63 A9", "<doc></doc>"},
	{"DictionaryText", "40 03 64 6F 63 04 02 6E 73 AA 38 01", `<doc ns="str56"></doc>`},
	{"DictionaryTextWithEndElement", "40 04 54 79 70 65 AB C4 01", "<Type>str196</Type>"},
	{"UniqueIdText", "40 03 64 6F 63 AC 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 01",
		"<doc>urn:uuid:33221100-5544-7766-8899-aabbccddeeff</doc>"},
	{"UniqueIdTextWithEndElement", "42 1A AD 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF",
		"<str26>urn:uuid:33221100-5544-7766-8899-aabbccddeeff</str26>"},
	{"TimeSpanText", "40 03 64 6F 63 AE 00 C4 F5 32 FF FF FF FF 01", "<doc>-PT5M44S</doc>"},
	{"TimeSpanTextWithEndElement", "42 94 07 AF 00 B0 8E F0 1B 00 00 00", "<str916>PT3H20M</str916>"},
	{"UuidText", "40 03 64 6F 63 B0 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 01",
		"<doc>03020100-0504-0706-0809-0a0b0c0d0e0f</doc>"},
	{"UuidTextWithEndElement", "40 02 49 44 B1 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
		"<ID>03020100-0504-0706-0809-0a0b0c0d0e0f</ID>"},
	{"UInt64Text", "40 03 64 6F 63 B2 FF FF FF FF FF FF FF FF 01", "<doc>18446744073709551615</doc>"},
	{"UInt64TextWithEndElement", "42 9A 01 B3 FE FF FF FF FF FF FF FF", "<str154>18446744073709551614</str154>"},
	{"BoolText", "40 03 64 6F 63 B4 01 01", "<doc>true</doc>"},
	{"BoolTextWithEndElement", "03 40 03 61 72 72 01 B5 05 01 00 01 00 01",
		"<arr>true</arr><arr>false</arr><arr>true</arr><arr>false</arr><arr>true</arr>"},
	{"UnicodeChars8Text", "40 03 64 6F 63 04 01 75 B6 06 75 00 6E 00 69 00 01", `<doc u="uni"></doc>`},
	{"UnicodeChars8TextWithEndElement", "40 01 55 B7 06 75 00 6E 00 69 00", "<U>uni</U>"},
	{"UnicodeChars16Text", "40 03 64 6F 63 04 03 75 31 36 B8 08 00 75 00 6E 00 69 00 32 00 01", `<doc u16="uni2"></doc>`},
	{"UnicodeChars16TextWithEndElement", "40 03 55 31 36 B9 08 00 75 00 6E 00 69 00 32 00", "<U16>uni2</U16>"},
	{"UnicodeChars32Text", "40 03 64 6F 63 04 03 75 33 32 BA 04 00 00 00 33 00 32 00 01", `<doc u32="32"></doc>`},
	{"UnicodeChars32TextWithEndElement", "40 03 55 33 32 BB 04 00 00 00 33 00 32 00", "<U32>32</U32>"},
	{"QNameDictionaryText", "40 03 64 6F 63 06 F0 06 BC 08 8E 07 01", `<doc str880="i:str910"></doc>`},
	{"QNameDictionaryTextWithEndElement", "40 04 54 79 70 65 BD 12 90 07", "<Type>s:str912</Type>"},
}

func TestReadExamples(t *testing.T) {
	for _, ex := range nbfxExamples {
		t.Run(ex.name, func(t *testing.T) {
			in := unhex(t, ex.hex)
			for _, src := range []io.Reader{bytes.NewReader(in), oneByte{bytes.NewReader(in)}} {
				r := NewReader(src, Config{Dictionary: strDict{}, Fragments: true, Location: time.UTC})
				got, err := render(r)
				if err != nil {
					t.Fatalf("read: %v (so far %s)", err, got)
				}
				if got != ex.want {
					t.Fatalf("read\n got %s\nwant %s", got, ex.want)
				}
			}
		})
	}
}

// The examples the writer produces, byte for byte, from the calls a server
// would make.
func TestWriteExamples(t *testing.T) {
	byName := map[string]string{}
	for _, ex := range nbfxExamples {
		byName[ex.name] = ex.hex
	}
	uid := [16]byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	cases := []struct {
		name  string
		write func(w *Writer)
	}{
		{"ShortElement", func(w *Writer) { w.StartElement("", "doc"); w.EndElement() }},
		{"ShortAttribute", func(w *Writer) { w.StartElement("", "doc"); w.AttrBool("", "attr", false); w.EndElement() }},
		{"Attribute", func(w *Writer) {
			w.StartElement("", "doc")
			w.Xmlns("pre", "http://abc")
			w.AttrBool("pre", "attr", false)
			w.EndElement()
		}},
		{"ShortDictionaryAttribute", func(w *Writer) { w.StartElement("", "doc"); w.AttrBool("", "str8", true); w.EndElement() }},
		{"DictionaryAttribute", func(w *Writer) {
			w.StartElement("", "doc")
			w.Xmlns("pre", "http://abc")
			w.AttrBool("pre", "str0", true)
			w.EndElement()
		}},
		{"ShortXmlnsAttribute", func(w *Writer) { w.StartElement("", "doc"); w.Xmlns("", "http://abc"); w.EndElement() }},
		{"XmlnsAttribute", func(w *Writer) { w.StartElement("", "doc"); w.Xmlns("p", "http://abc"); w.EndElement() }},
		{"ShortDictionaryXmlnsAttribute", func(w *Writer) { w.StartElement("", "doc"); w.Xmlns("", "str4"); w.EndElement() }},
		{"DictionaryXmlnsAttribute", func(w *Writer) { w.StartElement("", "doc"); w.Xmlns("p", "str4"); w.EndElement() }},
		{"PrefixDictionaryAttributeF", func(w *Writer) {
			w.StartElement("", "doc")
			w.Xmlns("f", "http://abc")
			w.Attr("f", "str11", "hello")
			w.EndElement()
		}},
		{"PrefixAttributeK", func(w *Writer) {
			w.StartElement("", "doc")
			w.Xmlns("k", "http://abc")
			w.AttrBool("k", "attr", true)
			w.EndElement()
		}},
		{"PrefixAttributeZ", func(w *Writer) {
			w.StartElement("", "doc")
			w.Xmlns("z", "http://abc")
			w.Attr("z", "abc", "xyz")
			w.EndElement()
		}},
		{"Element", func(w *Writer) { w.StartElement("pre", "doc"); w.Xmlns("pre", "http://abc"); w.EndElement() }},
		{"ShortDictionaryElement", func(w *Writer) { w.StartElement("", "str14"); w.EndElement() }},
		{"DictionaryElement", func(w *Writer) { w.StartElement("pre", "str14"); w.Xmlns("pre", "http://abc"); w.EndElement() }},
		{"PrefixDictionaryElementS", func(w *Writer) { w.StartElement("s", "str38"); w.Xmlns("s", "http://abc"); w.EndElement() }},
		{"PrefixElementS", func(w *Writer) { w.StartElement("s", "MyMessage"); w.Xmlns("s", "http://abc"); w.EndElement() }},
		{"ZeroText", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str416", 0); w.EndElement() }},
		{"ZeroTextWithEndElement", func(w *Writer) { w.StartElement("", "abc"); w.TextInt(0); w.EndElement() }},
		{"OneText", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str0", 1); w.EndElement() }},
		{"OneTextWithEndElement", func(w *Writer) { w.StartElement("", "abc"); w.TextInt(1); w.EndElement() }},
		{"FalseTextWithEndElement", func(w *Writer) { w.StartElement("", "abc"); w.TextBool(false); w.EndElement() }},
		{"TrueTextWithEndElement", func(w *Writer) { w.StartElement("", "abc"); w.TextBool(true); w.EndElement() }},
		{"Int8Text", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str236", -34); w.EndElement() }},
		{"Int8TextWithEndElement", func(w *Writer) { w.StartElement("", "str154"); w.TextInt(127); w.EndElement() }},
		{"Int16Text", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str236", -32768); w.EndElement() }},
		{"Int16TextWithEndElement", func(w *Writer) { w.StartElement("", "str154"); w.TextInt(32767); w.EndElement() }},
		{"Int32Text", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str236", 123456789); w.EndElement() }},
		{"Int32TextWithEndElement", func(w *Writer) { w.StartElement("", "str154"); w.TextInt(2147483647); w.EndElement() }},
		{"Int64Text", func(w *Writer) { w.StartElement("", "doc"); w.AttrInt("", "str236", 2147483648); w.EndElement() }},
		{"Int64TextWithEndElement", func(w *Writer) { w.StartElement("", "str154"); w.TextInt(1099511627776); w.EndElement() }},
		{"Chars8TextWithEndElement", func(w *Writer) { w.StartElement("", "a"); w.Text("hello"); w.EndElement() }},
		{"EmptyText", func(w *Writer) { w.StartElement("", "doc"); w.Attr("", "a", ""); w.EndElement() }},
		{"DictionaryText", func(w *Writer) { w.StartElement("", "doc"); w.Attr("", "ns", "str56"); w.EndElement() }},
		{"DictionaryTextWithEndElement", func(w *Writer) { w.StartElement("", "Type"); w.Text("str196"); w.EndElement() }},
		{"UniqueIdTextWithEndElement", func(w *Writer) { w.StartElement("", "str26"); w.TextUniqueID(uid); w.EndElement() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, ok := byName[c.name]
			if !ok {
				t.Fatalf("no example %s", c.name)
			}
			w := Writer{Dict: strDict{}}
			c.write(&w)
			if got := hex.EncodeToString(w.Buf); got != hex.EncodeToString(unhex(t, want)) {
				t.Fatalf("wrote\n got % X\nwant %s", w.Buf, want)
			}
		})
	}
}

// [MC-NBFSE] section 3: the string table announcing "action" and
// "Inventory", then records referring to them by ids 1 and 3.
func TestSessionExample(t *testing.T) {
	table := unhex(t, "11 06 61 63 74 69 6F 6E 09 49 6E 76 65 6E 74 6F 72 79")
	s := NewSession(SessionLimits{})
	doc := append(append([]byte{}, table...), unhex(t, "42 03 AB 01")...)
	n, err := s.Apply(doc)
	if err != nil || n != len(table) {
		t.Fatalf("Apply = %d, %v; want %d, nil", n, err, len(table))
	}
	for id, want := range map[int]string{1: "action", 3: "Inventory", 2: "Envelope", 0x3CC: "detail"} {
		if got, ok := s.Lookup(id); !ok || got != want {
			t.Errorf("Lookup(%d) = %q, %v; want %q", id, got, ok, want)
		}
	}
	if _, ok := s.Lookup(5); ok {
		t.Errorf("Lookup(5) found a string the table did not add")
	}
	got, err := render(NewReader(bytes.NewReader(doc[n:]), Config{Dictionary: s}))
	if err != nil || got != "<Inventory>action</Inventory>" {
		t.Fatalf("read %q, %v", got, err)
	}

	// The writer's side produces the same table and the same references.
	ws := NewSession(SessionLimits{})
	out, err := ws.AppendTable(nil, "action", "Inventory")
	if err != nil || !bytes.Equal(out, table) {
		t.Fatalf("AppendTable = % X, %v; want % X", out, err, table)
	}
	w := Writer{Buf: out, Dict: ws}
	w.StartElement("", "Inventory")
	w.Text("action")
	w.EndElement()
	if !bytes.Equal(w.Buf, doc) {
		t.Fatalf("wrote % X, want % X", w.Buf, doc)
	}
}

// The [MC-NBFS] section 3 document: a SOAP envelope in static-dictionary
// records, read through the soap package's envelope reader unchanged.
func TestEnvelopeThroughSoapReader(t *testing.T) {
	var w Writer
	w.Dict = StaticDictionary{}
	w.StartElement("s", "Envelope")
	w.Xmlns("a", soap.NSAddressing)
	w.Xmlns("s", soap.NSEnvelope)
	w.StartElement("s", "Header")
	w.StartElement("a", "Action")
	w.AttrInt("s", "mustUnderstand", 1)
	w.Text("action")
	w.EndElement()
	w.EndElement()
	w.StartElement("s", "Body")
	w.StartElement("", "Inventory")
	w.TextInt(0)
	w.EndElement()
	w.EndElement()
	w.EndElement()
	// The example's bytes, exactly: Envelope, Header, Action,
	// mustUnderstand, Body and the two namespaces are static strings.
	want := "56 02 0B 01 61 06 0B 01 73 04 56 08 44 0A 1E 00 82 99 06 61 63 74 69 6F 6E 01 56 0E 40 09 49 6E 76 65 6E 74 6F 72 79 81 01 01"
	if !bytes.Equal(w.Buf, unhex(t, want)) {
		t.Fatalf("wrote\n% X\nwant\n%s", w.Buf, want)
	}
	r := soap.NewReader(NewReader(bytes.NewReader(w.Buf), Config{}))
	h, err := r.ReadStart()
	if err != nil {
		t.Fatalf("ReadStart: %v", err)
	}
	if h.Action != "action" {
		t.Fatalf("Action %q", h.Action)
	}
	tok, ok, err := r.NextChild()
	if err != nil || !ok || string(tok.Name.Local) != "Inventory" {
		t.Fatalf("NextChild = %+v, %v, %v", tok, ok, err)
	}
}

// Two envelopes over one session: the second reuses the first's strings
// and adds its own; each side keeps its own table.
func TestSessionAcrossEnvelopes(t *testing.T) {
	out, in := NewSession(SessionLimits{}), NewSession(SessionLimits{})
	r := NewReader(nil, Config{Dictionary: in})
	for i, c := range []struct {
		strs []string
		want string
	}{
		{[]string{"urn:orders", "order"}, `<{urn:orders}order id="7">order</{urn:orders}order>`},
		{[]string{"id"}, `<{urn:orders}order id="8">order</{urn:orders}order>`},
	} {
		buf, err := out.AppendTable(nil, c.strs...)
		if err != nil {
			t.Fatal(err)
		}
		w := Writer{Buf: buf, Dict: out}
		w.StartElement("o", "order")
		w.Xmlns("o", "urn:orders")
		w.AttrInt("", "id", int64(7+i))
		w.Text("order")
		w.EndElement()
		n, err := in.Apply(w.Buf)
		if err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		r.Reset(bytes.NewReader(w.Buf[n:]))
		got, err := render(r)
		if err != nil || got != c.want {
			t.Fatalf("envelope %d (% X): got %s, %v; want %s", i, w.Buf, got, err, c.want)
		}
		// Everything but the table's own bytes is references by now.
		if i == 1 && bytes.Contains(w.Buf[n:], []byte("order")) {
			t.Fatalf("envelope %d spells out a string the session has: % X", i, w.Buf[n:])
		}
	}
	if got, _ := in.Lookup(5); got != "id" {
		t.Fatalf("reader's table has %q under 5", got)
	}
}
