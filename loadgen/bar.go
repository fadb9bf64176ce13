// Bar: a one-line terminal progress display for Run's progress callback.

package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const barWidth = 24 // characters between the brackets

// Bar shows the progress of a run. On a terminal it redraws a single line
// with a carriage return; on anything else it prints a plain line at most
// once per second of elapsed time. Its methods are safe for concurrent use,
// and Update can be passed directly as Run's progress callback.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	total    time.Duration
	tty      bool
	lastLen  int   // length of the line last drawn on a terminal
	lastSec  int64 // last whole second printed in plain mode
	drawn    bool
	finished bool
}

// NewBar returns a Bar writing to w for a run expected to last total (for
// Run, that is Config.Warmup+Config.Duration). w is treated as a terminal
// when it is an *os.File for a character device.
func NewBar(w io.Writer, total time.Duration) *Bar {
	return newBar(w, total, isTerminal(w))
}

func newBar(w io.Writer, total time.Duration, tty bool) *Bar {
	return &Bar{w: w, total: total, tty: tty}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update shows p. Calls after Done are ignored.
func (b *Bar) Update(p Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	if !b.tty {
		sec := int64(p.Elapsed / time.Second)
		if sec <= b.lastSec {
			return
		}
		b.lastSec = sec
		fmt.Fprintf(b.w, "%s\n", b.status(p))
		return
	}
	line := b.status(p)
	if b.total > 0 {
		frac := float64(p.Elapsed) / float64(b.total)
		frac = min(max(frac, 0), 1)
		n := int(frac * barWidth)
		line = "[" + strings.Repeat("=", n) + strings.Repeat(" ", barWidth-n) + "] " + line
	}
	pad := ""
	if len(line) < b.lastLen {
		pad = strings.Repeat(" ", b.lastLen-len(line))
	}
	b.lastLen = len(line)
	b.drawn = true
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
}

// status formats the text part of a progress line.
func (b *Bar) status(p Progress) string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Messages) / s
	}
	elapsed := fmt.Sprintf("%.1fs", p.Elapsed.Seconds())
	if b.total > 0 {
		elapsed += fmt.Sprintf("/%.1fs", b.total.Seconds())
	}
	return fmt.Sprintf("%s  %.0f msg/s  %d errors", elapsed, rate, p.Errors)
}

// Done ends the display, moving a terminal to a fresh line. It is safe to
// call more than once.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.tty && b.drawn {
		fmt.Fprint(b.w, "\n")
	}
}
