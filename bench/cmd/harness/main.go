// Command harness benchmarks overlap's echo server against peer engines
// (gnet, netpoll, nbio, Go's net, a minimal C epoll server) on this machine.
//
// It builds every engine and the C load generator into bench/bin, then, one
// run at a time, starts a fresh server pinned to one CPU, drives it with the
// load generator pinned to another, and records throughput, latency and the
// server's CPU time per message. Afterwards it measures each server's RSS per
// idle connection. Run it from the bench directory:
//
//	go run ./cmd/harness -md > ../docs/bench-latest.md
//
// An engine that fails to build or start is reported as missing, with the
// reason, rather than dropped.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		duration  = flag.Duration("duration", 10*time.Second, "measured time per run")
		warmup    = flag.Duration("warmup", time.Second, "traffic before each measured window")
		repeat    = flag.Int("repeat", 3, "runs per engine and workload")
		engines   = flag.String("engines", "", "comma-separated subset of engines (default all: "+names(allEngines())+")")
		workloads = flag.String("workloads", "", "comma-separated subset of workloads, or none (default all: "+wnames(allWorkloads())+")")
		idle      = flag.String("idle", "10000,19000", "comma-separated idle connection counts for the RSS test; empty or none skips it")
		quick     = flag.Bool("quick", false, "short smoke run: 2 s windows, 0.5 s warm-up, 1 repeat, idle test at 10000 only")
		jsonOut   = flag.String("json", "", "write the full results as JSON to this file")
		md        = flag.Bool("md", false, "print markdown tables instead of plain text")
		benchDir  = flag.String("bench", "", "the bench module directory (default: . or ./bench, whichever holds it)")
		serverCPU = flag.Int("server-cpu", 1, "CPU every server is pinned to")
		clientCPU = flag.Int("client-cpu", 0, "CPU the load generator is pinned to")
		quietWait = flag.Duration("quiet-wait", 30*time.Second, "before each run, wait up to this long for other work on the machine to stop")
		quietMax  = flag.Duration("quiet-budget", 5*time.Minute, "longest total time spent waiting for quiet")
	)
	flag.Parse()
	if *quick {
		*duration, *warmup, *repeat = 2*time.Second, 500*time.Millisecond, 1
		if !flagSet("idle") {
			*idle = "10000"
		}
	}
	*duration = min(*duration, 10*time.Minute) // every run stays bounded
	*repeat = max(*repeat, 1)

	dir, err := findBenchDir(*benchDir)
	if err != nil {
		fatalf("%v", err)
	}
	raiseNoFile()
	if runtime.NumCPU() < 2 {
		logf("warning: %d CPU(s); server and load generator will share a core", runtime.NumCPU())
	}

	selE, err := pick(allEngines(), *engines, func(e *engine) string { return e.Name })
	if err != nil {
		fatalf("-engines: %v", err)
	}
	selW, err := pick(allWorkloads(), *workloads, func(w workload) string { return w.Name })
	if err != nil {
		fatalf("-workloads: %v", err)
	}
	idleCounts, err := ints(*idle)
	if err != nil {
		fatalf("-idle: %v", err)
	}

	rep := &report{
		Started: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Machine: machineInfo(),
		Settings: settings{DurationS: duration.Seconds(), WarmupS: warmup.Seconds(), Repeat: *repeat,
			ServerCPU: *serverCPU, ClientCPU: *clientCPU, IdleConns: idleCounts,
			Command: "go run ./cmd/harness " + strings.Join(os.Args[1:], " ")},
		Engines: selE,
	}

	// Build everything first, so build time never overlaps a measurement.
	b := &builder{benchDir: dir, rootDir: filepath.Dir(dir), binDir: filepath.Join(dir, "bin")}
	logDir := filepath.Join(b.binDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		fatalf("%v", err)
	}
	lgBin, err := b.buildLoadgen()
	if err != nil {
		fatalf("cannot build the load generator: %v", err)
	}
	for _, e := range selE {
		logf("building %s", e.Name)
		b.build(e)
		if e.Missing != "" {
			logf("  %s is missing: %s", e.Name, e.Missing)
		}
	}
	lg := &loadgen{bin: lgBin, cpu: *clientCPU, warmup: *warmup}
	quiet := &quietWaiter{perRun: *quietWait, budget: *quietMax}

	per := *warmup + *duration + 2*time.Second
	logf("plan: %d workloads × %d engines × %d repeats × ~%v, plus the idle test",
		len(selW), len(selE), *repeat, per.Round(time.Second))

	// Throughput runs: repeats outermost, engines rotated each repeat so no
	// engine always runs first or last.
	for r := 0; r < *repeat; r++ {
		for _, w := range selW {
			for i := range selE {
				e := selE[(i+r)%len(selE)]
				if e.Missing != "" {
					continue
				}
				before := quiet.wait()
				res := runOne(e, w, lg, *serverCPU, *duration, filepath.Join(logDir, e.Name+".log"))
				res.Rep = r + 1
				res.BusyBeforePct, res.BusyAfterPct = before, machineBusy(500*time.Millisecond)
				rep.Runs = append(rep.Runs, res)
				if res.Err != "" {
					logf("[%d/%d] %-22s %-8s error: %s", r+1, *repeat, w.Name, e.Name, res.Err)
					if strings.HasPrefix(res.Err, "start: ") {
						e.Missing = res.Err
					}
					continue
				}
				logf("[%d/%d] %-22s %-8s %9.0f msg/s  p99 %8.1f µs  server %5.2f µs/msg",
					r+1, *repeat, w.Name, e.Name, res.Load.MsgsPerSec, res.Load.LatUs.P99, res.CPUPerMsgUs)
			}
		}
	}

	// Idle connections: a fresh server per count.
	for _, n := range idleCounts {
		for _, e := range selE {
			if e.Missing != "" {
				rep.Idle = append(rep.Idle, idleResult{Engine: e.Name, Conns: n, Err: "missing: " + e.Missing})
				continue
			}
			quiet.wait()
			s, err := startServer(e, *serverCPU, filepath.Join(logDir, e.Name+".log"), 15*time.Second)
			if err != nil {
				rep.Idle = append(rep.Idle, idleResult{Engine: e.Name, Conns: n, Err: "start: " + err.Error()})
				continue
			}
			x := lg.idle(s, n)
			s.stop()
			x.Engine = e.Name
			rep.Idle = append(rep.Idle, x)
			if x.Err != "" {
				logf("idle %-8s %5d conns: error: %s", e.Name, n, x.Err)
			} else {
				logf("idle %-8s %5d conns: %7.0f B/conn (RSS %s → %s)", e.Name, n, x.BytesPerCon, mib(x.RSSBefore), mib(x.RSSAfter))
			}
		}
	}

	rep.Finished = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	rep.summarize(selW)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	rep.write(os.Stdout, *md)
}

// runOne starts a fresh server for e, runs workload w against it and stops it.
func runOne(e *engine, w workload, lg *loadgen, cpu int, d time.Duration, logPath string) runResult {
	res := runResult{Engine: e.Name, Workload: w.Name}
	s, err := startServer(e, cpu, logPath, 15*time.Second)
	if err != nil {
		res.Err = "start: " + err.Error()
		return res
	}
	defer s.stop()
	time.Sleep(200 * time.Millisecond) // let start-up work finish
	c0, err0 := cpuMicros(s.Pid)
	l, err := lg.run(s, w, d)
	c1, err1 := cpuMicros(s.Pid)
	if err0 == nil && err1 == nil {
		res.ServerCPUTotalUs = c1 - c0
	}
	res.Load = l
	switch {
	case err != nil:
		res.Err = err.Error()
	case !s.alive():
		res.Err = "server exited during the run: " + logTail(logPath)
	case l.Errors > 0:
		res.Err = fmt.Sprintf("%d connection errors, first: %s", l.Errors, l.FirstError)
	case l.Messages == 0:
		res.Err = "no message completed"
	case l.ServerCPUUs < 0:
		res.Err = "could not read the server's CPU time"
	default:
		res.CPUPerMsgUs = l.ServerCPUUs / float64(l.Messages)
	}
	return res
}

// findBenchDir returns the absolute path of the bench module: flagged, the
// current directory, or ./bench.
func findBenchDir(flagged string) (string, error) {
	cands := []string{".", "bench"}
	if flagged != "" {
		cands = []string{flagged}
	}
	for _, c := range cands {
		b, err := os.ReadFile(filepath.Join(c, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/overlap-go/overlap/bench\n") {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("run from the bench directory (or pass -bench DIR)")
}

// raiseNoFile sets the soft open-file limit to the hard one. Setting it
// explicitly also stops Go from restoring the original soft limit in the
// child processes, which inherit this one.
func raiseNoFile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logf("getrlimit: %v", err)
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logf("setrlimit: %v", err)
	}
}

// machineInfo describes the machine for the report.
func machineInfo() machine {
	m := machine{Cores: runtime.NumCPU(), GCC: gccVersion()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	return m
}

// pick returns the items of all named in the comma-separated list csv, in
// the order of all; an empty list picks everything and "none" nothing.
func pick[T any](all []T, csv string, name func(T) string) ([]T, error) {
	switch strings.TrimSpace(csv) {
	case "":
		return all, nil
	case "none":
		return nil, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(csv, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []T
	for _, x := range all {
		if want[name(x)] {
			out = append(out, x)
			delete(want, name(x))
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown name %q", n)
	}
	return out, nil
}

func ints(csv string) ([]int, error) {
	var out []int
	if strings.TrimSpace(csv) == "none" {
		return nil, nil
	}
	for _, f := range strings.Split(csv, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func names(es []*engine) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Name)
	}
	return strings.Join(s, ",")
}

func wnames(ws []workload) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.Name)
	}
	return strings.Join(s, ",")
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}

func fatalf(format string, a ...any) {
	logf("harness: "+format, a...)
	os.Exit(1)
}
