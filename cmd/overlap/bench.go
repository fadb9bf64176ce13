// overlap bench echo: the project's load generator, from the command line.

package main

import (
	"context"
	"io"
	"time"

	"github.com/overlap-go/overlap/loadgen"
)

func benchEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench echo", "overlap bench echo [--addr HOST:PORT] [--conns C] [--size BYTES] [--duration D] [--json]", stderr)
	var cfg loadgen.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:7007", "echo server address")
	fs.IntVar(&cfg.Conns, "conns", 50, "concurrent connections")
	fs.IntVar(&cfg.Size, "size", 64, "message size in bytes")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured run time")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "unmeasured warm-up before the run")
	fs.IntVar(&cfg.Pipeline, "pipeline", 1, "messages in flight per connection (1 = ping-pong)")
	fs.Int64Var(&cfg.MaxMessages, "max-messages", 0, "stop after this many messages (0 = run for --duration)")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var progress func(loadgen.Progress)
	var bar *loadgen.Bar
	if !*quiet {
		bar = loadgen.NewBar(stderr, cfg.Warmup+cfg.Duration)
		progress = bar.Update
	}
	res, err := loadgen.Run(ctx, cfg, progress)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return res.WriteJSON(stdout)
	}
	return res.WriteText(stdout)
}
