// overlap serve: run services on one engine until SIGINT or SIGTERM.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/overlap-go/overlap/admin"
	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/server"
	"github.com/overlap-go/overlap/services/echo"
	"github.com/overlap-go/overlap/services/pipes"
	"github.com/overlap-go/overlap/socket"
	"github.com/overlap-go/overlap/store"
)

// engineFlags are the flags every serving command shares.
type engineFlags struct {
	loops      int
	workers    int
	maxConns   int
	logLevel   string
	logFormat  string
	stopWithin time.Duration
	admin      string // admin page address, or "off"
	adminToken string
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.loops, "loops", runtime.NumCPU(), "event loops (one epoll instance each)")
	fs.IntVar(&f.workers, "workers", 0, "run callbacks on up to this many worker goroutines (0 = on the loops)")
	fs.IntVar(&f.maxConns, "max-conns", 0, "maximum open connections per service (0 = no limit)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&f.stopWithin, "stop-timeout", 10*time.Second, "how long a graceful stop may take")
}

// registerAdmin adds the admin page's flags, on by default (def) for plain
// `overlap serve`, off for a single service.
func (f *engineFlags) registerAdmin(fs *flag.FlagSet, def string) {
	fs.StringVar(&f.admin, "admin", def, "admin web page address, HOST:PORT, or off; off loopback it requires a token")
	fs.StringVar(&f.adminToken, "admin-token", os.Getenv("OVERLAP_ADMIN_TOKEN"), "token the admin page requires off loopback (default: generated and printed; env OVERLAP_ADMIN_TOKEN)")
}

func (f *engineFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level: %v", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format: %q is not text or json", f.logFormat)}
}

func (f *engineFlags) engine() (*engine.Engine, error) {
	cfg := engine.Config{Loops: f.loops}
	if f.workers > 0 {
		cfg.Workers = &engine.WorkerConfig{Min: 1, Max: f.workers}
	}
	return engine.New(cfg)
}

// echoService is the echo service, counting what it echoes for the admin
// page.
func (f *engineFlags) echoService(addr string) service {
	st := echo.NewStats(f.loops)
	var srv *server.Server
	return service{
		name: "echo",
		make: func(eng *engine.Engine, ef *engineFlags, log *slog.Logger) (runnable, error) {
			srv = server.New(eng, server.Config{Name: "echo", Addr: addr, MaxConns: ef.maxConns, Logger: log}, echo.Handler{Stats: st})
			return srv, nil
		},
		stats: func() admin.Stats {
			b, m := st.Totals()
			return admin.Stats{Conns: int64(srv.Conns()), BytesIn: b, Messages: m, Counted: true}
		},
	}
}

// runnable is a service `overlap serve` can run: a server.Server, or a
// service wrapping one.
type runnable interface {
	Start() error
	Stop(ctx context.Context) error
	Addr() net.Addr
}

// service is one service to run. Exactly one of h (a plain handler served
// on addr) and make (a service built on the engine) is set; close, if set,
// releases what make acquired once the service has stopped.
type service struct {
	name  string
	addr  string
	h     server.Handler
	make  func(eng *engine.Engine, ef *engineFlags, log *slog.Logger) (runnable, error)
	close func(ctx context.Context) error
	sock  *socket.Options // for h's connections (nil = defaults)
	// For the admin page: the service's counters and details, and the
	// recorder's store (all optional).
	stats   func() admin.Stats
	details func() any
	records func() store.Store
	orders  func() *store.OrderLog
}

func serveEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve echo", "overlap serve echo [--addr HOST:PORT] [flags]", stderr)
	var ef engineFlags
	ef.register(fs)
	addr := fs.String("addr", echo.DefaultAddr, "listen address, HOST:PORT (port 0 picks a free port)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return serve(ctx, &ef, []service{ef.echoService(*addr)}, stdout, stderr)
}

func serveAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "overlap serve [flags]   (every service)", stderr)
	var ef engineFlags
	ef.register(fs)
	ef.registerAdmin(fs, admin.DefaultAddr)
	echoAddr := fs.String("echo-addr", echo.DefaultAddr, "echo service listen address")
	var rf recordFlags
	rf.register(fs, "record-addr")
	pipesAddr := fs.String("pipes-addr", pipes.DefaultAddr, "pipes service (gRPC) listen address")
	pipesTransport := fs.String("pipes-transport", defaultPipesTransport, "pipes service transport: net or overlap")
	var of ordersFlags
	of.register(fs, "orders-")
	of.store = &rf.store
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rec, err := rf.service()
	if err != nil {
		return err
	}
	pipesSvc, err := pipesService(*pipesAddr, *pipesTransport)
	if err != nil {
		return err
	}
	return serve(ctx, &ef, []service{ef.echoService(*echoAddr), rec, of.service(stdout), pipesSvc}, stdout, stderr)
}

// serve starts the services, prints one ready line per service with its
// actual address, and stops them gracefully when ctx ends.
func serve(ctx context.Context, ef *engineFlags, services []service, stdout, stderr io.Writer) error {
	log, err := ef.logger(stderr)
	if err != nil {
		return err
	}
	eng, err := ef.engine()
	if err != nil {
		return err
	}
	log.Info("engine started", "backend", engine.Backend, "loops", len(eng.Loops()), "workers", ef.workers)
	var running []runnable
	var closers []func(context.Context) error
	// Each service, then each store, gets its own --stop-timeout: a pipe
	// call that keeps one service waiting must not leave the recorder or
	// the order log without time to commit what they hold.
	within := func(f func(context.Context) error) error {
		sctx, cancel := context.WithTimeout(context.Background(), ef.stopWithin)
		defer cancel()
		return f(sctx)
	}
	stopAll := func() error {
		var errs []error
		for _, s := range running {
			errs = append(errs, within(s.Stop))
		}
		for _, c := range closers {
			errs = append(errs, within(c))
		}
		errs = append(errs, eng.Close())
		return errors.Join(errs...)
	}
	printHost(stdout)
	var entries []admin.Entry
	var recs store.Store
	var ordersLog *store.OrderLog
	for _, svc := range services {
		if svc.close != nil {
			closers = append(closers, svc.close)
		}
		var s runnable
		if svc.make != nil {
			if s, err = svc.make(eng, ef, log); err != nil {
				return errors.Join(err, stopAll())
			}
		} else {
			s = server.New(eng, server.Config{Name: svc.name, Addr: svc.addr, MaxConns: ef.maxConns, Logger: log, Socket: svc.sock}, svc.h)
		}
		if err := s.Start(); err != nil {
			stopAll()
			return err
		}
		running = append(running, s)
		fmt.Fprintf(stdout, "%s listening on %s\n", svc.name, s.Addr())
		e := admin.Entry{Name: svc.name, Service: s, Addr: s.Addr().String(), Stats: svc.stats, Details: svc.details}
		if srv, ok := s.(*server.Server); ok && e.Stats == nil {
			e.Stats = func() admin.Stats { return admin.Stats{Conns: int64(srv.Conns())} }
		}
		entries = append(entries, e)
		if svc.records != nil {
			recs = svc.records()
		}
		if svc.orders != nil {
			ordersLog = svc.orders()
		}
	}
	if ef.admin != "" && ef.admin != "off" {
		adm, err := admin.New(admin.Config{Addr: ef.admin, Token: ef.adminToken, Services: entries, Records: recs, Orders: ordersLog, Logger: log})
		if err == nil {
			err = adm.Start()
		}
		if err != nil {
			return errors.Join(err, stopAll())
		}
		running = append([]runnable{adm}, running...) // stopped first
		fmt.Fprintf(stdout, "admin listening on %s\n", adm.Addr())
		if tok := adm.Token(); tok != "" {
			fmt.Fprintf(stdout, "admin token %s\n", tok)
		}
	}
	<-ctx.Done()
	log.Info("shutting down", "reason", context.Cause(ctx))
	if err := stopAll(); err != nil {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// printHost prints the host's name and addresses, as the seed's form shows
// them, so a user knows where clients can reach the services.
func printHost(w io.Writer) {
	h := admin.Host()
	fmt.Fprintf(w, "host %s addresses %s\n", h.Name, strings.Join(h.Addresses, " "))
}
