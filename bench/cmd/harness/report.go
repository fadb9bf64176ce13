// report.go: the results of a harness run, their summary (medians with
// min–max, CPU-per-message ratios) and the markdown/text tables.

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is everything one harness run measured; it is what -json writes.
type report struct {
	Started  string       `json:"started"`
	Finished string       `json:"finished"`
	Machine  machine      `json:"machine"`
	Settings settings     `json:"settings"`
	Engines  []*engine    `json:"engines"`
	Runs     []runResult  `json:"runs"`
	Summary  []summary    `json:"summary"`
	Idle     []idleResult `json:"idle"`
}

type machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	GCC    string `json:"gcc"`
}

type settings struct {
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	Repeat    int     `json:"repeat"`
	ServerCPU int     `json:"server_cpu"`
	ClientCPU int     `json:"client_cpu"`
	IdleConns []int   `json:"idle_conns"`
	Command   string  `json:"command"`
}

// runResult is one workload run against one freshly started server.
type runResult struct {
	Engine   string      `json:"engine"`
	Workload string      `json:"workload"`
	Rep      int         `json:"rep"`
	Load     *loadResult `json:"load,omitempty"`
	// ServerCPUTotalUs is the server's CPU time from just before the load
	// generator started to just after it exited (connect and warm-up
	// included), read by the harness as a cross-check of Load.ServerCPUUs.
	ServerCPUTotalUs float64 `json:"server_cpu_total_us"`
	CPUPerMsgUs      float64 `json:"cpu_per_msg_us"`
	// BusyBeforePct and BusyAfterPct are the machine's busy share (percent of
	// all cores) over half a second just before the server started and just
	// after it stopped: anything above a few percent is other work that may
	// have disturbed the run.
	BusyBeforePct float64 `json:"busy_before_pct"`
	BusyAfterPct  float64 `json:"busy_after_pct"`
	Err           string  `json:"error,omitempty"`
}

// disturbed reports whether other work was seen around the run.
func (r *runResult) disturbed() bool {
	return r.BusyBeforePct > busyThreshold || r.BusyAfterPct > busyThreshold
}

// stat is a median with its range over the repeats.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// summary condenses the repeats of one engine on one workload.
type summary struct {
	Engine       string  `json:"engine"`
	Workload     string  `json:"workload"`
	Runs         int     `json:"runs"`
	OK           int     `json:"ok"`
	Disturbed    int     `json:"disturbed"` // ok runs with other work seen around them
	MsgsPerSec   stat    `json:"msgs_per_sec"`
	P50Us        float64 `json:"p50_us"`  // median over repeats
	P99Us        float64 `json:"p99_us"`  // median over repeats
	P999Us       float64 `json:"p999_us"` // median over repeats
	ServerCPUPct float64 `json:"server_cpu_pct"`
	ClientCPUPct float64 `json:"client_cpu_pct"`
	CPUPerMsgUs  stat    `json:"cpu_per_msg_us"`
	BestGoPeer   string  `json:"best_go_peer,omitempty"`
	VsBestGoPeer float64 `json:"vs_best_go_peer,omitempty"`
	VsCFloor     float64 `json:"vs_c_floor,omitempty"`
	Missing      string  `json:"missing,omitempty"`
	Err          string  `json:"error,omitempty"` // last run error, if any run failed
}

func newStat(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return stat{Median: median(s), Min: s[0], Max: s[len(s)-1]}
}

// median of sorted or unsorted xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarize fills r.Summary from r.Runs, in engine-within-workload order.
func (r *report) summarize(workloads []workload) {
	r.Summary = nil
	for _, w := range workloads {
		first := len(r.Summary)
		for _, e := range r.Engines {
			s := summary{Engine: e.Name, Workload: w.Name, Missing: e.Missing}
			var rate, cpu, p50, p99, p999, spct, cpct []float64
			for _, run := range r.Runs {
				if run.Engine != e.Name || run.Workload != w.Name {
					continue
				}
				s.Runs++
				if run.Err != "" {
					s.Err = run.Err
					continue
				}
				s.OK++
				if run.disturbed() {
					s.Disturbed++
				}
				l := run.Load
				rate = append(rate, l.MsgsPerSec)
				cpu = append(cpu, run.CPUPerMsgUs)
				p50, p99, p999 = append(p50, l.LatUs.P50), append(p99, l.LatUs.P99), append(p999, l.LatUs.P999)
				spct = append(spct, 100*l.ServerCPUUs/(l.DurationS*1e6))
				cpct = append(cpct, 100*l.ClientCPUUs/(l.DurationS*1e6))
			}
			s.MsgsPerSec, s.CPUPerMsgUs = newStat(rate), newStat(cpu)
			s.P50Us, s.P99Us, s.P999Us = median(p50), median(p99), median(p999)
			s.ServerCPUPct, s.ClientCPUPct = median(spct), median(cpct)
			r.Summary = append(r.Summary, s)
		}
		// Ratios of CPU per message against the best Go peer and the C floor.
		group := r.Summary[first:]
		best, floor := -1, -1
		for i, s := range group {
			if s.OK == 0 {
				continue
			}
			switch r.engine(s.Engine).Kind {
			case kindGoPeer:
				if best < 0 || s.CPUPerMsgUs.Median < group[best].CPUPerMsgUs.Median {
					best = i
				}
			case kindCFloor:
				floor = i
			}
		}
		for i := range group {
			s := &group[i]
			if s.OK == 0 {
				continue
			}
			if best >= 0 && group[best].CPUPerMsgUs.Median > 0 {
				s.BestGoPeer = group[best].Engine
				s.VsBestGoPeer = s.CPUPerMsgUs.Median / group[best].CPUPerMsgUs.Median
			}
			if floor >= 0 && group[floor].CPUPerMsgUs.Median > 0 {
				s.VsCFloor = s.CPUPerMsgUs.Median / group[floor].CPUPerMsgUs.Median
			}
		}
	}
}

func (r *report) engine(name string) *engine {
	for _, e := range r.Engines {
		if e.Name == name {
			return e
		}
	}
	return &engine{}
}

// table is a header and rows of cells, printable as markdown or text.
type table struct {
	head []string
	rows [][]string
}

func (t *table) markdown(w io.Writer) {
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
	}
	line(t.head)
	sep := make([]string, len(t.head))
	for i := range sep {
		sep[i] = "---"
		if i >= 2 {
			sep[i] = "---:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, row := range t.rows {
		line(row)
	}
}

func (t *table) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.head, "\t"))
	for _, row := range t.rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// loadTable is the throughput / latency / CPU-per-message table.
func (r *report) loadTable() *table {
	t := &table{head: []string{"workload", "engine", "msgs/s median [min–max]", "p50 µs", "p99 µs",
		"server CPU", "client CPU", "server CPU µs/msg median [min–max]", "× best Go peer", "× C floor"}}
	for _, s := range r.Summary {
		name := s.Engine
		if v := r.engine(s.Engine).Version; v != "" {
			name += " " + v
		}
		if s.OK == 0 {
			why := s.Missing
			if why == "" {
				why = "failed: " + s.Err
			} else {
				why = "missing: " + why
			}
			t.rows = append(t.rows, []string{s.Workload, name, clip(why, 160), "–", "–", "–", "–", "–", "–", "–"})
			continue
		}
		rate := fmt.Sprintf("%s [%s–%s]", si(s.MsgsPerSec.Median), si(s.MsgsPerSec.Min), si(s.MsgsPerSec.Max))
		cpu := fmt.Sprintf("%.2f [%.2f–%.2f]", s.CPUPerMsgUs.Median, s.CPUPerMsgUs.Min, s.CPUPerMsgUs.Max)
		if s.OK < s.Runs {
			rate += fmt.Sprintf(" (%d/%d runs ok)", s.OK, s.Runs)
		}
		if s.Disturbed > 0 {
			rate += fmt.Sprintf(" (%d disturbed)", s.Disturbed)
		}
		t.rows = append(t.rows, []string{s.Workload, name, rate, num(s.P50Us), num(s.P99Us),
			fmt.Sprintf("%.0f%%", s.ServerCPUPct), fmt.Sprintf("%.0f%%", s.ClientCPUPct), cpu,
			ratio(s.VsBestGoPeer), ratio(s.VsCFloor)})
	}
	return t
}

// idleTable is the RSS-per-idle-connection table.
func (r *report) idleTable() *table {
	t := &table{head: []string{"engine", "idle conns", "RSS before", "RSS after", "bytes / idle conn"}}
	for _, x := range r.Idle {
		if x.Err != "" {
			t.rows = append(t.rows, []string{x.Engine, fmt.Sprint(x.Conns), "–", "–", clip(x.Err, 160)})
			continue
		}
		t.rows = append(t.rows, []string{x.Engine, fmt.Sprint(x.Conns), mib(x.RSSBefore), mib(x.RSSAfter),
			fmt.Sprintf("%.0f (%.2f KiB)", x.BytesPerCon, x.BytesPerCon/1024)})
	}
	return t
}

// write prints the report's tables, as markdown when md is set.
func (r *report) write(w io.Writer, md bool) {
	s := r.Settings
	if md {
		fmt.Fprintf(w, "Measured %s to %s on %s (%d cores, Linux %s, %s, %s).\n\n",
			r.Started, r.Finished, r.Machine.CPU, r.Machine.Cores, r.Machine.Kernel, r.Machine.Go, r.Machine.GCC)
		fmt.Fprintf(w, "Command: `%s`. Each run: fresh server pinned to CPU %d, C load generator pinned to CPU %d, "+
			"%g s warm-up, %g s measured; %d repeat(s), engines rotated; medians with [min–max] over repeats.\n\n",
			s.Command, s.ServerCPU, s.ClientCPU, s.WarmupS, s.DurationS, s.Repeat)
	}
	if len(r.Summary) > 0 {
		t := r.loadTable()
		if md {
			fmt.Fprintln(w, "### Throughput, latency and server CPU per message")
			fmt.Fprintln(w)
			t.markdown(w)
		} else {
			t.text(w)
		}
		fmt.Fprintln(w)
	}
	if len(r.Idle) > 0 {
		t := r.idleTable()
		if md {
			fmt.Fprintln(w, "### Server RSS per idle connection")
			fmt.Fprintln(w)
			t.markdown(w)
		} else {
			t.text(w)
		}
		fmt.Fprintln(w)
	}
}

// si formats a rate with a k/M suffix.
func si(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// num formats a latency with three significant figures.
func num(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func ratio(x float64) string {
	if x == 0 || math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
