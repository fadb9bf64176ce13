package nettcp

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overlap-go/overlap/protocols/nmf"
	"github.com/overlap-go/overlap/protocols/soap"
)

// rssBytes returns the process's resident set size.
func rssBytes(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestGigabyteMessage streams one message of 1 GiB (64 MiB under the race
// detector, which slows it tenfold) of PurchaseOrderType elements, in one
// sized envelope, and checks that the process's RSS after it is no larger
// than after its first 32 MiB, give or take 16 MiB: the message costs no
// memory.
func TestGigabyteMessage(t *testing.T) {
	size := int64(1 << 30)
	if raceEnabled || testing.Short() {
		size = 64 << 20
	}
	eng := newEngine(t)
	var elements, bytesIn atomic.Int64
	var rssEarly, rssMax atomic.Int64
	svc := NewService()
	svc.Handle(actionPO, func(ctx context.Context, m *Message) (*Reply, error) {
		heap := soap.NewHeap(soap.DefaultHeapSize)
		for {
			tok, ok, err := m.Body.NextChild()
			if err != nil || !ok {
				return nil, err
			}
			if !tok.Name.Is(nsPO, "PurchaseOrderType") {
				return nil, soap.Senderf("unexpected %s", tok.Name.Local)
			}
			for {
				_, ok, err := m.Body.NextChild()
				if err != nil {
					return nil, err
				}
				if !ok {
					break
				}
				if _, err := m.Body.ReadString(heap); err != nil {
					return nil, err
				}
			}
			heap.Reset()
			if n := elements.Add(1); n%50_000 == 0 {
				r := rssBytes(t)
				if rssEarly.Load() == 0 && bytesIn.Load() >= 32<<20 {
					rssEarly.Store(r)
				}
				if r > rssMax.Load() {
					rssMax.Store(r)
				}
			}
		}
	})
	url, _ := startService(t, eng, &Handler{Path: "/example", Config: Config{ReadSize: 64 << 10},
		Serve: func(ch *Channel) { svc.Serve(context.Background(), ch) }})

	addr, _, _ := ParseURL(url)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(nmf.AppendPreamble(nil, nmf.ModeDuplex, url, nmf.EncodingSoap12UTF8)); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, 1)
	if _, err := io.ReadFull(c, ack); err != nil || ack[0] != byte(nmf.RecPreambleAck) {
		t.Fatalf("ack % x %v", ack, err)
	}
	full := soap.AppendEnvelopeEnd(soap.AppendEnvelopeStart(nil, &soap.Headers{Action: actionPO}))
	cut := strings.Index(string(full), "</s:Body>")
	head, tail := full[:cut], full[cut:]
	item := appendOrder(nil, 12345, "Pencils, box of twelve, HB")
	count := (size - int64(len(head)+len(tail))) / int64(len(item))
	total := int64(len(head)+len(tail)) + count*int64(len(item))
	start := time.Now()
	w := bufio.NewWriterSize(&countingWriter{c, &bytesIn}, 64<<10)
	w.Write(nmf.AppendSizedEnvelopeHeader(nil, int(total)))
	w.Write(head)
	for i := int64(0); i < count; i++ {
		w.Write(item)
	}
	w.Write(tail)
	w.Write(nmf.AppendEnd(nil))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The server's End comes once it has read the whole message.
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.ReadFull(c, ack); err != nil || ack[0] != byte(nmf.RecEnd) {
		t.Fatalf("end % x %v", ack, err)
	}
	d := time.Since(start)
	if n := elements.Load(); n != count {
		t.Fatalf("server read %d elements of %d", n, count)
	}
	early, peak := rssEarly.Load(), rssMax.Load()
	t.Logf("%d MiB, %d elements in %v (%.0f MB/s, %.0f elements/s); RSS %d MiB after 32 MiB, peak %d MiB",
		total>>20, count, d.Round(time.Millisecond), float64(total)/d.Seconds()/1e6, float64(count)/d.Seconds(), early>>20, peak>>20)
	if early == 0 || peak > early+16<<20 {
		t.Fatalf("RSS grew with the message: %d MiB after 32 MiB, peak %d MiB", early>>20, peak>>20)
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
