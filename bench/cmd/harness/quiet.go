// quiet.go: telling whether anything else is using the machine, so runs are
// started on an idle machine and runs disturbed by other work are flagged.

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// busyThreshold is the machine-wide busy share (percent of all cores) above
// which the machine is not considered quiet between runs.
const busyThreshold = 5.0

// cpuTimes returns the busy and total jiffies of all CPUs from /proc/stat.
func cpuTimes() (busy, total float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat")
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice]; guest
	// time is already inside user, so only the first eight are summed.
	for i := 1; i <= 8; i++ {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, 0, err
		}
		total += v
		if i != 4 && i != 5 { // idle, iowait
			busy += v
		}
	}
	return busy, total, nil
}

// machineBusy samples the machine for d and returns the busy percentage of
// all cores over that time.
func machineBusy(d time.Duration) float64 {
	b0, t0, err0 := cpuTimes()
	time.Sleep(d)
	b1, t1, err1 := cpuTimes()
	if err0 != nil || err1 != nil || t1 <= t0 {
		return 0
	}
	return 100 * (b1 - b0) / (t1 - t0)
}

// quietWaiter waits for the machine to go quiet before each run, up to
// perRun each time and budget in all, so a long foreign job cannot stretch
// the benchmark without bound; runs it could not wait out are flagged.
type quietWaiter struct {
	perRun, budget time.Duration
}

// wait returns the last busy percentage seen.
func (q *quietWaiter) wait() float64 {
	busy := machineBusy(500 * time.Millisecond)
	if busy <= busyThreshold || q.budget <= 0 {
		return busy
	}
	logf("machine %.0f%% busy with other work; waiting up to %v for it to go quiet", busy, min(q.perRun, q.budget))
	start := time.Now()
	deadline := start.Add(min(q.perRun, q.budget))
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if busy = machineBusy(500 * time.Millisecond); busy <= busyThreshold {
			break
		}
	}
	q.budget -= time.Since(start)
	return busy
}
