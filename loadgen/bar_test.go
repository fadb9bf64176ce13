// Tests for the progress bar.

package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBarPlainPrintsOncePerSecond(t *testing.T) {
	var buf bytes.Buffer
	b := NewBar(&buf, 3*time.Second) // a bytes.Buffer is not a terminal
	for ms := 200; ms <= 2600; ms += 200 {
		b.Update(Progress{Elapsed: time.Duration(ms) * time.Millisecond, Messages: int64(ms) * 10, Errors: 2})
	}
	b.Done()
	b.Update(Progress{Elapsed: 5 * time.Second})
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("plain output contains \\r: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per elapsed second (2), got %q", out)
	}
	if !strings.Contains(lines[0], "1.0s/3.0s") || !strings.Contains(lines[0], "10000 msg/s") || !strings.Contains(lines[0], "2 errors") {
		t.Fatalf("unexpected line %q", lines[0])
	}
}

func TestBarTerminalRedrawsOneLine(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, 2*time.Second, true)
	b.Update(Progress{Elapsed: time.Second, Messages: 123456789, Errors: 10})
	b.Update(Progress{Elapsed: 2 * time.Second, Messages: 10})
	b.Done()
	b.Done()
	out := buf.String()
	if strings.Count(out, "\r") != 2 || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("want two \\r redraws and one final newline, got %q", out)
	}
	draws := strings.Split(strings.TrimSuffix(out, "\n"), "\r")[1:]
	if len(draws[1]) < len(draws[0]) {
		t.Fatalf("shorter redraw does not blank the previous line: %q", out)
	}
	if !strings.Contains(draws[0], "[============            ]") || !strings.Contains(draws[1], "[========================]") {
		t.Fatalf("bar not drawn to scale: %q", out)
	}
}

func TestBarDoneWithoutUpdates(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, time.Second, true)
	b.Done()
	if buf.Len() != 0 {
		t.Fatalf("Done on an untouched bar wrote %q", buf.String())
	}
}
