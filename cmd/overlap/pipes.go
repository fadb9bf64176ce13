// overlap serve pipes and overlap send pipe: the asynchronous pipe service
// (gRPC) and a client that drives it.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/loadgen"
	"github.com/overlap-go/overlap/services/pipes"
)

// defaultPipesTransport is where grpc-go serves the pipes: Go's net. Over
// overlap's engine (socket/netconn) it is no faster across processes and
// slower in one, since grpc-go keeps its own reader and writer goroutines
// per connection and the adapter only adds a hop to each Read and Write
// (docs/BENCHMARKS.md, "Asynchronous pipes").
const defaultPipesTransport = "net"

// pipesService describes the pipes service for serve.
func pipesService(addr, transport string) (service, error) {
	if transport != "net" && transport != "overlap" {
		return service{}, usageError{fmt.Sprintf("pipes transport %q is not net or overlap", transport)}
	}
	return service{name: "pipes", addr: addr, make: func(eng *engine.Engine, ef *engineFlags, log *slog.Logger) (runnable, error) {
		cfg := pipes.Config{Addr: addr, Logger: log, MaxConns: ef.maxConns}
		if transport == "overlap" {
			cfg.Engine = eng
		}
		return pipes.NewServer(cfg), nil
	}}, nil
}

func servePipes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve pipes", "overlap serve pipes [--addr HOST:PORT] [--transport net|overlap] [flags]", stderr)
	var ef engineFlags
	ef.register(fs)
	addr := fs.String("addr", pipes.DefaultAddr, "listen address, HOST:PORT (port 0 picks a free port)")
	transport := fs.String("transport", defaultPipesTransport, "serve gRPC over Go's net (net) or overlap's engine (overlap)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	svc, err := pipesService(*addr, *transport)
	if err != nil {
		return err
	}
	return serve(ctx, &ef, []service{svc}, stdout, stderr)
}

func sendPipe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send pipe", "overlap send pipe [--addr HOST:PORT] [--call ints|orders] [--chunks N] [--chunk-len N] [--duration D] [--json]", stderr)
	addr := fs.String("addr", "127.0.0.1:8809", "pipes server address")
	var cfg pipes.SendConfig
	fs.StringVar(&cfg.Call, "call", "orders", "ints: IntPipe, echoing integer chunks; orders: Import, purchase orders in, confirmations out")
	fs.Int64Var(&cfg.Chunks, "chunks", 1000, "[in] chunks to push (0 = push until --duration)")
	fs.IntVar(&cfg.ChunkLen, "chunk-len", 100, "elements per chunk (integers, or orders)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "longest run; the [in] pipe then ends and the call completes")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cc, err := pipes.Dial(*addr)
	if err != nil {
		return err
	}
	defer cc.Close()
	var progress func(int64)
	var bar *loadgen.Bar
	if !*quiet {
		bar = loadgen.NewBar(stderr, cfg.Duration)
		start := time.Now()
		progress = func(n int64) { bar.Update(loadgen.Progress{Elapsed: time.Since(start), Messages: n}) }
	}
	res, err := pipes.Send(ctx, cc, cfg, progress)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return fmt.Errorf("send pipe %s: %w", *addr, err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			pipes.SendResult
			ChunksPerSec float64 `json:"chunks_per_sec"`
			MBPerSec     float64 `json:"mb_per_sec"`
		}{res, res.ChunksPerSec(), res.MBPerSec()})
	}
	_, err = fmt.Fprintf(stdout, "%s: %d chunks in, %d out in %.2fs: %.0f chunks/s, %.1f MB/s\ncompleted: %s\n",
		res.Call, res.InChunks, res.OutChunks, res.Elapsed.Seconds(), res.ChunksPerSec(), res.MBPerSec(), res.Reply)
	return err
}
