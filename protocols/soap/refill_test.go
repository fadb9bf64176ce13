package soap

import (
	"errors"
	"io"
	"strings"
	"testing"
)

type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

func TestRefill(t *testing.T) {
	buf := []byte("..abc\x00\x00\x00")
	w, shifted, eof, err := Refill(strings.NewReader("xyz"), buf, 2, 5, 2)
	if err != nil || shifted != 2 || eof || w != 5 || string(buf[:w]) != "abcxy" {
		t.Fatalf("shift and fill: w=%d shifted=%d eof=%v err=%v %q", w, shifted, eof, err, buf[:w])
	}
	if _, _, eof, err = Refill(strings.NewReader(""), buf, 0, 5, 2); !eof || err != nil {
		t.Fatalf("end of input: eof=%v err=%v", eof, err)
	}
	if _, _, _, err = Refill(strings.NewReader("more"), buf, 0, len(buf), 2); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("full buffer: %v", err)
	}
	if _, _, _, err = Refill(emptyReads{}, buf, 0, 0, 2); !errors.Is(err, io.ErrNoProgress) || ReadErrorMessage(err) != "the input returns no data" {
		t.Fatalf("no progress: %v", err)
	}
}
