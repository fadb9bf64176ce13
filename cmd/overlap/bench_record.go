// overlap bench record: records per second into a store, measured end to
// end: C clients send B-byte bodies to a recorder on loopback, and a record
// counts only once its transaction has committed.

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/loadgen"
	"github.com/overlap-go/overlap/protocols/framing"
	"github.com/overlap-go/overlap/services/record"
	"github.com/overlap-go/overlap/store"
)

// benchRecordResult is what bench record prints.
type benchRecordResult struct {
	Store         string  `json:"store"`
	Framing       string  `json:"framing"`
	Conns         int     `json:"conns"`
	Size          int     `json:"size"`
	Sent          int64   `json:"records_sent"`
	Stored        int64   `json:"records_stored"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	MaxRSSMiB     float64 `json:"max_rss_mib"`
	StoreFailures int64   `json:"store_failures"`
	Commits       int64   `json:"commits"`
}

func benchRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench record", "overlap bench record [--store URL] [--conns C] [--size BYTES] [--duration D] [--framing lines|length|close] [--json]", stderr)
	storeURL := fs.String("store", "", "store to write to (default: a fresh SQLite file in a temporary directory, removed afterwards)")
	conns := fs.Int("conns", 100, "concurrent clients")
	size := fs.Int("size", 1024, "record body size in bytes (for lines, the newline included)")
	dur := fs.Duration("duration", 10*time.Second, "how long the clients send")
	fr := fs.String("framing", "lines", "lines, length or close (close: each client connection is one record)")
	loops := fs.Int("loops", runtime.NumCPU(), "engine event loops of the recorder")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress bar")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	mode, err := framing.ParseFraming(*fr)
	if err != nil {
		return usageError{"--framing: " + err.Error()}
	}
	if *conns <= 0 || *size <= 1 || *dur <= 0 {
		return usageError{"--conns, --size (> 1) and --duration must be positive"}
	}
	url := *storeURL
	if url == "" {
		dir, err := os.MkdirTemp("", "overlap-bench-record-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		url = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{Loops: *loops})
	if err != nil {
		return err
	}
	defer eng.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := record.New(eng, st, record.Config{Addr: "127.0.0.1:0", Framing: mode, Logger: log})
	if err := svc.Start(); err != nil {
		return err
	}
	addr := svc.Addr().String()

	var sent atomic.Int64
	var wg sync.WaitGroup
	var bar *loadgen.Bar
	if !*quiet {
		bar = loadgen.NewBar(stderr, *dur)
	}
	start := time.Now()
	deadline := start.Add(*dur)
	errs := make(chan error, *conns)
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sendRecords(ctx, addr, mode, *size, i, deadline, &sent); err != nil {
				errs <- err
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
progress:
	for {
		select {
		case <-done:
			break progress
		case <-tick.C:
			if bar != nil {
				bar.Update(loadgen.Progress{Elapsed: time.Since(start), Messages: svc.Status().Stored})
			}
		}
	}
	tick.Stop()
	// Every client has closed; wait until the recorder has stored what they sent.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := svc.Stop(fctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	if bar != nil {
		bar.Done()
	}
	s := svc.Status()
	if err := svc.Close(fctx); err != nil {
		return err
	}
	close(errs)
	for err := range errs {
		return fmt.Errorf("bench record: client: %w", err)
	}
	res := benchRecordResult{
		Store: st.String(), Framing: mode.String(), Conns: *conns, Size: *size,
		Sent: sent.Load(), Stored: s.Stored, Seconds: elapsed.Seconds(),
		RecordsPerSec: float64(s.Stored) / elapsed.Seconds(),
		MBPerSec:      float64(s.BytesIn) / elapsed.Seconds() / 1e6,
		MaxRSSMiB:     maxRSSMiB(), StoreFailures: s.StoreFails, Commits: s.Commits,
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "store      %s (%s framing)\nclients    %d x %d-byte records for %s\nsent       %d records\nstored     %d records in %.2fs (until the last commit), %d transactions\nrate       %.0f records/s, %.1f MB/s\nmax RSS    %.1f MiB\n",
		res.Store, res.Framing, res.Conns, res.Size, *dur, res.Sent, res.Stored, res.Seconds, res.Commits, res.RecordsPerSec, res.MBPerSec, res.MaxRSSMiB)
	if res.Sent != res.Stored {
		return fmt.Errorf("bench record: %d records sent but %d stored", res.Sent, res.Stored)
	}
	return nil
}

// sendRecords is one client: until the deadline it writes size-byte
// records on one connection (lines, length), or sends one record per
// connection (close); it then half-closes and waits for the recorder's
// close, so every record it counts has been received.
func sendRecords(ctx context.Context, addr string, mode framing.Framing, size, id int, deadline time.Time, sent *atomic.Int64) error {
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte((i+id)%26)
	}
	frame := body
	switch mode {
	case framing.Lines:
		body[size-1] = '\n'
	case framing.Length:
		frame = binary.BigEndian.AppendUint32(nil, uint32(size))
		frame = append(frame, body...)
	}
	for {
		n, err := sendConn(ctx, addr, mode, frame, deadline)
		sent.Add(n)
		if err != nil || mode != framing.Close || !time.Now().Before(deadline) || ctx.Err() != nil {
			return err
		}
	}
}

// sendConn sends on one connection and returns how many records it sent.
func sendConn(ctx context.Context, addr string, mode framing.Framing, frame []byte, deadline time.Time) (int64, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	w := bufio.NewWriterSize(c, 64<<10)
	n := int64(0)
	for {
		if _, err := w.Write(frame); err != nil {
			return 0, err
		}
		n++
		if mode == framing.Close || (n%64 == 0 && (!time.Now().Before(deadline) || ctx.Err() != nil)) {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return 0, err
	}
	return n, nil
}
