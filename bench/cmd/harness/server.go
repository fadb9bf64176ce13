// server.go: starting a pinned echo server, waiting for its ready line,
// reading its CPU time and memory from /proc, and stopping it.

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// readyRE matches the line every server prints once it is listening.
var readyRE = regexp.MustCompile(`listening on (\S+)`)

// server is a running echo server process.
type server struct {
	cmd  *exec.Cmd
	Addr string // the actual listening address, from the ready line
	Pid  int
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // exit status, valid after done
}

// startServer starts e pinned to cpu (with taskset, which execs the server
// so its pid is the server's) and waits up to timeout for the ready line.
// Both output streams are appended to logPath.
func startServer(e *engine, cpu int, logPath string, timeout time.Duration) (*server, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	argv := append([]string{"-c", strconv.Itoa(cpu)}, e.command("127.0.0.1:0")...)
	fmt.Fprintf(lf, "\n=== %s taskset %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command("taskset", argv...)
	cmd.Stderr = lf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, Pid: cmd.Process.Pid, log: lf, done: make(chan struct{})}

	ready := make(chan string, 1)
	go func() { // copy stdout to the log, reporting the first ready line
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(lf, line)
			if m := readyRE.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()

	select {
	case s.Addr = <-ready:
		return s, nil
	case <-s.done:
		lf.Close()
		return nil, fmt.Errorf("exited before listening (%v): %s", s.err, logTail(logPath))
	case <-time.After(timeout):
		s.stop()
		return nil, fmt.Errorf("no ready line within %v: %s", timeout, logTail(logPath))
	}
}

// stop sends SIGTERM, waits up to 5 s, then kills the server.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// cpuMicros returns utime+stime of pid (all threads) in microseconds.
func cpuMicros(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state); utime is field 14
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return (ut + st) * 1e6 / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// rssBytes returns VmRSS of pid in bytes.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// fdCount returns the number of open file descriptors of pid.
func fdCount(pid int) (int, error) {
	d, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err
}

// logTail returns the last few lines of a log file, for error messages.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}
