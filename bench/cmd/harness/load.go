// load.go: the workloads, running the C load generator against a server,
// and the idle-connection memory measurement.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// workload is one traffic pattern of the load generator.
type workload struct {
	Name  string `json:"name"`
	Mode  string `json:"mode"` // pingpong or pipeline
	Conns int    `json:"conns"`
	Size  int    `json:"size"`
	Depth int    `json:"depth"` // messages in flight per connection
}

// allWorkloads lists every workload in report order.
func allWorkloads() []workload {
	return []workload{
		{Name: "pingpong-50x64B", Mode: "pingpong", Conns: 50, Size: 64, Depth: 1},
		{Name: "pingpong-50x16KiB", Mode: "pingpong", Conns: 50, Size: 16 << 10, Depth: 1},
		{Name: "pingpong-1000x1KiB", Mode: "pingpong", Conns: 1000, Size: 1 << 10, Depth: 1},
		{Name: "pipeline-1000x1KiBx8", Mode: "pipeline", Conns: 1000, Size: 1 << 10, Depth: 8},
	}
}

// loadResult is the JSON object the load generator prints after a run.
type loadResult struct {
	Mode        string  `json:"mode"`
	Conns       int     `json:"conns"`
	Size        int     `json:"size"`
	Depth       int     `json:"depth"`
	DurationS   float64 `json:"duration_s"`
	Messages    int64   `json:"messages"`
	Bytes       int64   `json:"bytes"`
	MsgsPerSec  float64 `json:"msgs_per_sec"`
	LatUs       latency `json:"lat_us"`
	ServerCPUUs float64 `json:"server_cpu_us"` // server utime+stime over the measured window
	ClientCPUUs float64 `json:"client_cpu_us"`
	// MachineCPUUs is the whole machine's CPU time over the window, from
	// /proc/stat: processes (user+nice+system), irq+softirq, steal, idle.
	MachineCPUUs struct {
		Procs float64 `json:"procs"`
		IRQ   float64 `json:"irq"`
		Steal float64 `json:"steal"`
		Idle  float64 `json:"idle"`
	} `json:"machine_cpu_us"`
	ConnsAlive  int    `json:"conns_alive"`
	Errors      int64  `json:"errors"`
	FirstError  string `json:"first_error"`
	Fatal       string `json:"fatal,omitempty"`
	Interrupted bool   `json:"interrupted"`
}

type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// loadgen runs the C load generator binary pinned to one CPU.
type loadgen struct {
	bin    string
	cpu    int
	warmup time.Duration
}

// run drives server s with workload w for d after the warm-up and returns
// the generator's result. The generator reads the server's CPU time itself
// at the exact edges of the measured window.
func (g *loadgen) run(s *server, w workload, d time.Duration) (*loadResult, error) {
	limit := g.warmup + d + 60*time.Second // connect timeout (30 s) plus slack
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin,
		"-addr", s.Addr, "-mode", w.Mode,
		"-conns", strconv.Itoa(w.Conns), "-size", strconv.Itoa(w.Size), "-depth", strconv.Itoa(w.Depth),
		"-warmup", secs(g.warmup), "-duration", secs(d),
		"-cpu", strconv.Itoa(g.cpu), "-pid", strconv.Itoa(s.Pid))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res loadResult
	if jerr := json.Unmarshal(lastLine(out), &res); jerr != nil {
		if err == nil {
			err = jerr
		}
		return nil, fmt.Errorf("loadgen: %v: %s", err, firstLines(stderr.String()+string(out), 3))
	}
	if res.Fatal != "" {
		return &res, fmt.Errorf("loadgen: %s (%s)", res.Fatal, res.FirstError)
	}
	if err != nil {
		return &res, fmt.Errorf("loadgen: %v", err)
	}
	return &res, nil
}

// idleResult is the memory one server needs for n idle connections.
type idleResult struct {
	Engine      string  `json:"engine"`
	Conns       int     `json:"conns"`
	Accepted    int     `json:"accepted"` // connections the server held (fd count growth)
	RSSBefore   int64   `json:"rss_before"`
	RSSAfter    int64   `json:"rss_after"`
	BytesPerCon float64 `json:"bytes_per_conn"`
	Err         string  `json:"error,omitempty"`
}

// maxConnsPerLoadgen keeps each generator process well under the
// per-process open-file limit.
const maxConnsPerLoadgen = 10000

// idle opens n idle connections to s (split over generator processes of at
// most maxConnsPerLoadgen each), waits until the server holds them all and
// its RSS has settled, and measures the RSS growth per connection.
func (g *loadgen) idle(s *server, n int) (res idleResult) {
	res.Conns = n
	fail := func(format string, a ...any) idleResult {
		res.Err = fmt.Sprintf(format, a...)
		return res
	}
	time.Sleep(500 * time.Millisecond) // let start-up allocation finish
	before, err := rssBytes(s.Pid)
	if err != nil {
		return fail("rss: %v", err)
	}
	fd0, err := fdCount(s.Pid)
	if err != nil {
		return fail("fd count: %v", err)
	}
	res.RSSBefore = before

	// Start the holders; each prints one JSON line once its share is up and
	// then holds until its stdin closes.
	type holder struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
	}
	var holders []holder
	defer func() {
		for _, h := range holders {
			h.stdin.Close()
		}
		for _, h := range holders {
			done := make(chan struct{})
			go func() { h.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				h.cmd.Process.Kill()
				<-done
			}
		}
	}()
	lines := make(chan string, n/maxConnsPerLoadgen+1)
	for left := n; left > 0; left -= maxConnsPerLoadgen {
		k := min(left, maxConnsPerLoadgen)
		cmd := exec.Command(g.bin, "-addr", s.Addr, "-mode", "idle", "-conns", strconv.Itoa(k),
			"-cpu", strconv.Itoa(g.cpu), "-hold", "300", "-connect-timeout", "60")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return fail("loadgen: %v", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return fail("loadgen: %v", err)
		}
		if err := cmd.Start(); err != nil {
			return fail("loadgen: %v", err)
		}
		holders = append(holders, holder{cmd, stdin})
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			lines <- line
			io.Copy(io.Discard, stdout)
		}()
	}
	established := 0
	for range holders {
		select {
		case line := <-lines:
			var r struct {
				Established int    `json:"established"`
				FirstError  string `json:"first_error"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return fail("loadgen idle: bad output %q", strings.TrimSpace(line))
			}
			established += r.Established
			if r.FirstError != "" && res.Err == "" {
				res.Err = "loadgen: " + r.FirstError
			}
		case <-time.After(90 * time.Second):
			return fail("loadgen idle: connections not established within 90 s")
		}
	}
	if established < n {
		return fail("only %d of %d connections established (%s)", established, n, res.Err)
	}

	// Wait for the server to have accepted them all, then for RSS to settle.
	deadline := time.Now().Add(60 * time.Second)
	for {
		fds, err := fdCount(s.Pid)
		if err != nil {
			return fail("fd count: %v", err)
		}
		res.Accepted = fds - fd0
		if res.Accepted >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.Accepted < n {
		return fail("server holds only %d of %d connections after 60 s", res.Accepted, n)
	}
	time.Sleep(time.Second)
	after, _ := rssBytes(s.Pid)
	for i := 0; i < 20; i++ { // settled: two readings 500 ms apart within 0.5%
		time.Sleep(500 * time.Millisecond)
		next, err := rssBytes(s.Pid)
		if err != nil {
			return fail("rss: %v", err)
		}
		stable := math.Abs(float64(next-after)) <= 0.005*float64(after)
		after = next
		if stable {
			break
		}
	}
	res.RSSAfter = after
	res.BytesPerCon = float64(after-before) / float64(n)
	return res
}

// secs formats a duration as seconds for the load generator's flags.
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// lastLine returns the last non-empty line of b.
func lastLine(b []byte) []byte {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return []byte(s)
}
