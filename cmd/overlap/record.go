// overlap serve record, overlap send record: the recorder and its client.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/overlap-go/overlap/admin"
	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/framing"
	"github.com/overlap-go/overlap/services/record"
	"github.com/overlap-go/overlap/store"
)

// maxMaxBody bounds --max-body well below what one SQLite or PostgreSQL
// value can hold (1 GB).
const maxMaxBody = 512 << 20

// recordFlags are the recorder's flags, shared by `serve` and `serve record`.
type recordFlags struct {
	addr        string
	framing     string
	store       string
	maxBody     int
	idleTimeout time.Duration
	queue       int64
}

func (f *recordFlags) register(fs *flag.FlagSet, addrFlag string) {
	fs.StringVar(&f.addr, addrFlag, record.DefaultAddr, "record service listen address, HOST:PORT")
	fs.StringVar(&f.framing, "framing", "close", "how a stream is cut into records: close (one per connection), lines, length (4-byte big-endian prefix)")
	fs.StringVar(&f.store, "store", envOr("OVERLAP_STORE", store.DefaultURL), "where records go: sqlite:PATH or postgres://... (env OVERLAP_STORE)")
	fs.IntVar(&f.maxBody, "max-body", record.DefaultMaxBody, "record size limit in bytes; a longer record keeps its first bytes, is marked limit, and the client is closed")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", record.DefaultIdleTimeout, "a client silent this long is recorded and closed (negative = never)")
	fs.Int64Var(&f.queue, "queue", 64<<20, "bytes of records waiting for their commit before reading from clients pauses")
}

// service returns the recorder as a service for serve: it opens the store
// when started and closes it after the last commit.
func (f *recordFlags) service() (service, error) {
	fr, err := framing.ParseFraming(f.framing)
	if err != nil {
		return service{}, usageError{"--framing: " + err.Error()}
	}
	if f.maxBody <= 0 || f.maxBody > maxMaxBody {
		return service{}, usageError{fmt.Sprintf("--max-body: want 1 to %d bytes (the stores keep at most 1 GB a value)", maxMaxBody)}
	}
	var st store.Store
	var svc *record.Service
	var logger *slog.Logger
	return service{
		name:    "record",
		records: func() store.Store { return st },
		stats: func() admin.Stats {
			s := svc.Status()
			return admin.Stats{Conns: int64(s.OpenConns), BytesIn: s.BytesIn, Messages: s.Received, Counted: true}
		},
		details: func() any {
			s := svc.Status()
			return admin.RecorderDetails{Framing: s.Framing, Store: s.Store, Received: s.Received, Stored: s.Stored,
				Pending: s.Pending, StoreFailures: s.StoreFails, Commits: s.Commits, LastCommit: s.LastCommit}
		},
		make: func(eng *engine.Engine, ef *engineFlags, log *slog.Logger) (runnable, error) {
			octx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st, err = store.Open(octx, f.store)
			if err != nil {
				return nil, err
			}
			log.Info("store open", "store", st.String())
			logger = log
			svc = record.New(eng, st, record.Config{
				Addr: f.addr, Framing: fr, MaxBody: f.maxBody, MaxConns: ef.maxConns,
				IdleTimeout: f.idleTimeout, Batch: store.BatchConfig{Budget: f.queue}, Logger: log,
			})
			return svc, nil
		},
		close: func(ctx context.Context) error {
			if svc == nil {
				return nil
			}
			err := svc.Close(ctx)
			s := svc.Status()
			logger.Info("recorder closed", "records_received", s.Received, "records_stored", s.Stored, "bytes_in", s.BytesIn)
			return joinClose(err, st)
		},
	}, nil
}

func joinClose(err error, c io.Closer) error {
	if c == nil {
		return err
	}
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serveRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve record", "overlap serve record [--addr HOST:PORT] [--store URL] [--framing close|lines|length] [flags]", stderr)
	var ef engineFlags
	ef.register(fs)
	var rf recordFlags
	rf.register(fs, "addr")
	ef.registerAdmin(fs, "off")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rec, err := rf.service()
	if err != nil {
		return err
	}
	return serve(ctx, &ef, []service{rec}, stdout, stderr)
}

// sendRecord sends a file or stdin to a recorder as one connection, then
// waits for the server's close so the caller knows every byte arrived.
func sendRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send record", "overlap send record [--addr HOST:PORT] [FILE|-]", stderr)
	addr := fs.String("addr", "127.0.0.1:4096", "recorder address, HOST:PORT")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() > 1 {
		return usageError{"send record: give at most one FILE (or - for stdin)"}
	}
	var in io.Reader = os.Stdin
	name := "stdin"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("send record: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	n, err := io.Copy(c, in)
	if err != nil {
		return fmt.Errorf("send record: after %d bytes: %w", n, err)
	}
	// Half-close: the recorder sees the end of the record, stores it and
	// closes; reading until its close says it has everything.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("send record: %w", err)
	}
	if _, err := io.Copy(io.Discard, c); err != nil && ctx.Err() != nil {
		return fmt.Errorf("send record: waiting for the recorder to close: %w", ctx.Err())
	}
	fmt.Fprintf(stdout, "sent %d bytes from %s to %s\n", n, name, *addr)
	return nil
}

// flagErr maps a flag parse error to the command's exit codes.
func flagErr(err error) error {
	if err == flag.ErrHelp {
		return err
	}
	return usageError{err.Error()}
}
