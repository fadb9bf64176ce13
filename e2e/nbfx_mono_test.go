// Differential test of the binary XML codec against .NET's own reader and
// writer on Mono: documents written by nbfx.Writer, typed-value records
// written by hand, and documents written by Mono's XmlDictionaryWriter
// (e2e/testdata/nbfx/encode.cs) must read the same through nbfx.Reader and
// through Mono's XmlDictionaryReader (decode.cs); both compiled with mcs
// now. Skips without Mono, except under CI=true.

package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overlap-go/overlap/protocols/nbfx"
	"github.com/overlap-go/overlap/protocols/soap"
)

// evenDict is decode.cs's dictionary: id 2k is "str2k".
type evenDict struct{}

func (evenDict) Lookup(id int) (string, bool) { return fmt.Sprintf("str%d", id), id&1 == 0 }

func (evenDict) ID(s string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "str%d", &n); err != nil || n&1 != 0 || fmt.Sprintf("str%d", n) != s {
		return 0, false
	}
	return n, true
}

func nbfxName(n soap.Name) string {
	if len(n.Space) == 0 {
		return string(n.Local)
	}
	return "{" + string(n.Space) + "}" + string(n.Local)
}

func nbfxRender(doc []byte) string {
	r := nbfx.NewReader(bytes.NewReader(doc), nbfx.Config{Dictionary: evenDict{}, Location: time.Local})
	var sb strings.Builder
	for {
		tok, err := r.Next()
		if err == io.EOF {
			return sb.String()
		}
		if err != nil {
			return "ERROR " + err.Error()
		}
		switch tok.Kind {
		case soap.StartElement:
			sb.WriteString("<" + nbfxName(tok.Name))
			for _, a := range tok.Attrs {
				sb.WriteString(" " + nbfxName(a.Name) + `="` + string(a.Value) + `"`)
			}
			sb.WriteString(">")
		case soap.EndElement:
			sb.WriteString("</" + nbfxName(tok.Name) + ">")
		case soap.Text:
			sb.Write(tok.Text)
		}
	}
}

// nbfxDoc writes a random document.
func nbfxDoc(rng *rand.Rand, w *nbfx.Writer, depth int) {
	locals := []string{"order", "item", "str2", "str14", "Envelope", "x"}
	prefixes := []string{"", "s", "ord"}
	p := prefixes[rng.Intn(len(prefixes))]
	w.StartElement(p, locals[rng.Intn(len(locals))])
	if p != "" {
		w.Xmlns(p, []string{"urn:orders", "str4", "http://example.com/é"}[rng.Intn(3)])
	}
	for i := rng.Intn(3); i > 0; i-- {
		name := fmt.Sprintf("a%d", i)
		switch rng.Intn(3) {
		case 0:
			w.AttrInt("", name, rng.Int63()-rng.Int63())
		case 1:
			w.AttrBool("", name, rng.Intn(2) == 0)
		default:
			w.Attr("", name, strings.Repeat("v<&é'", rng.Intn(3)))
		}
	}
	if depth < 3 {
		for i := rng.Intn(3); i > 0; i-- {
			nbfxDoc(rng, w, depth+1)
		}
	}
	switch rng.Intn(5) {
	case 0:
		w.TextInt([]int64{0, 1, -1, 127, -129, 40000, -3e9, 1 << 62}[rng.Intn(8)])
	case 1:
		w.Text(strings.Repeat("text é ", rng.Intn(50)))
	case 2:
		w.TextBool(rng.Intn(2) == 0)
	case 3:
		var u [16]byte
		rng.Read(u[:])
		w.TextUniqueID(u)
	}
	w.EndElement()
}

// Typed records .NET formats: each in <v>...</v> (40 01 76, then the record
// with its end element).
var nbfxTyped = []string{
	"91 CD CC 8C 3F", "91 FF FF 7F 7F", "91 00 00 80 7F", "91 00 00 C0 FF", "91 00 00 00 80",
	"93 11 2D 44 54 FB 21 09 40", "93 18 2D 44 54 FB 21 09 40", "93 FF FF FF FF FF FF EF 7F",
	"93 01 00 00 00 00 00 00 00", "93 F1 68 E3 88 B5 F8 E4 3E", "93 00 00 00 00 00 00 00 80",
	"95 00 00 02 00 00 00 00 00 FE 01 00 00 00 00 00 00", "95 00 00 02 80 00 00 00 00 00 00 00 00 00 00 00 00",
	"95 00 00 1C 80 FF FF FF FF FF FF FF FF FF FF FF FF",
	"97 00 40 8E F9 5B 47 C8 48", "97 FF 3F 37 F4 75 28 CA 6B", "97 01 40 8E F9 5B 47 C8 08",
	"97 00 00 00 00 00 00 00 00", "97 00 40 8E F9 5B 47 C8 88", // the last one Local: the reader's zone
	"AF 00 00 00 00 00 00 00 00", "AF FF FF FF FF FF FF FF 7F", "AF 00 00 00 00 00 00 00 80", "AF FF FF FF FF FF FF FF FF",
	"B1 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F", "AD FF EE DD CC BB AA 99 88 77 66 55 44 33 22 11 00",
	"9F 00", "9F 04 FB FF FE 00", "B7 04 3D D8 00 DE", "B3 FF FF FF FF FF FF FF FF", "8F 00 00 00 00 00 00 00 80",
	"AB 08", "BD 19 10", "B5 01",
}

func TestNbfxAgainstMono(t *testing.T) {
	tool := func(env, name string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (scripts/deps/mono.sh); this test does not skip in CI", name)
		}
		t.Skipf("%s not found; scripts/deps/mono.sh installs Mono", name)
		return ""
	}
	mcs, mono := tool("OVERLAP_MCS", "mcs"), tool("OVERLAP_MONO", "mono")
	exe := filepath.Join(t.TempDir(), "decode.exe")
	if out, err := exec.Command(mcs, "-nologo", "-out:"+exe, "-r:System.Runtime.Serialization.dll", "-r:System.Xml.dll",
		"testdata/nbfx/decode.cs").CombinedOutput(); err != nil {
		t.Fatalf("mcs: %v\n%s", err, out)
	}
	enc := filepath.Join(t.TempDir(), "encode.exe")
	if out, err := exec.Command(mcs, "-nologo", "-out:"+enc, "-r:System.Runtime.Serialization.dll", "-r:System.Xml.dll",
		"testdata/nbfx/encode.cs").CombinedOutput(); err != nil {
		t.Fatalf("mcs: %v\n%s", err, out)
	}
	encoded, err := exec.Command(mono, enc).Output()
	if err != nil {
		t.Fatalf("encode.exe: %v", err)
	}
	var docs [][]byte
	for _, line := range strings.Split(strings.TrimSpace(string(encoded)), "\n") {
		_, h, _ := strings.Cut(line, "\t")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("encode.exe line %q: %v", line, err)
		}
		docs = append(docs, b)
	}
	if len(docs) != 12 {
		t.Fatalf("encode.exe wrote %d documents, want 12", len(docs))
	}
	for _, rec := range nbfxTyped {
		b, err := hex.DecodeString("400176" + strings.ReplaceAll(rec, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	rng := rand.New(rand.NewSource(6))
	for i := 0; i < 200; i++ {
		w := nbfx.Writer{}
		if i%2 == 0 {
			w.Dict = evenDict{}
		}
		nbfxDoc(rng, &w, 0)
		docs = append(docs, w.Buf)
	}
	var in strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&in, "%d\t%x\n", i, d)
	}
	cmd := exec.Command(mono, exe)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("decode.exe: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(docs) {
		t.Fatalf("decode.exe printed %d lines for %d documents", len(lines), len(docs))
	}
	for i, d := range docs {
		want := fmt.Sprintf("%d\t%s", i, nbfxRender(d))
		if lines[i] != want {
			t.Errorf("document %d (% X):\n  mono %s\n  nbfx %s", i, d, lines[i], want)
		}
	}
}
