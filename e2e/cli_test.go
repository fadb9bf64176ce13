// Package e2e holds the end-to-end tests: they build the real overlap
// binary and run it as a separate process, as a user would.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "overlap-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "overlap")
	build := exec.Command("go", "build", "-o", binary, "../cmd/overlap")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building overlap: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var readyLine = regexp.MustCompile(`^(\w+) listening on (\S+)$`)

// startServe runs `overlap serve ...` and returns the address each ready
// line names, by service.
func startServe(t *testing.T, want int, args ...string) (*exec.Cmd, map[string]string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrs := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(addrs) < want {
		if !sc.Scan() {
			t.Fatalf("serve exited before %d ready lines; stderr:\n%s", want, stderr.String())
		}
		if strings.HasPrefix(sc.Text(), "host ") {
			continue // the host's name and addresses, printed once
		}
		m := readyLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("unexpected stdout line %q", sc.Text())
		}
		addrs[m[1]] = m[2]
	}
	go io.Copy(io.Discard, stdout)
	return cmd, addrs, &stderr
}

func TestServeEchoPrintsAddressEchoesAndStopsOnSIGTERM(t *testing.T) {
	cmd, addrs, stderr := startServe(t, 1, "echo", "--addr", "127.0.0.1:0")
	addr := addrs["echo"]
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("ready line shows port 0: %s", addr)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("hello overlap"))
	got := make([]byte, 13)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello overlap" {
		t.Fatalf("echo: %q %v", got, err)
	}

	// The load generator, against the real server.
	out, err := exec.Command(binary, "bench", "echo", "--addr", addr, "--conns", "4", "--duration", "500ms", "--json", "--quiet").Output()
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	var res struct {
		Messages int64 `json:"messages"`
		Errors   int64 `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("bench --json output %q: %v", out, err)
	}
	if res.Messages == 0 || res.Errors != 0 {
		t.Fatalf("bench: %+v", res)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Fatalf("logs:\n%s", stderr.String())
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(got); err == nil {
		t.Fatal("client connection survived the server")
	}
}

// allServices are the services plain `overlap serve` runs.
var allServices = []string{"echo", "record", "orders", "pipes"}

// serveAllArgs are the flags that make plain `overlap serve` listen on free
// loopback ports and store into a test directory.
func serveAllArgs(t *testing.T) []string {
	args := []string{"--store", "sqlite:" + filepath.Join(t.TempDir(), "all.db"), "--admin", "127.0.0.1:0"}
	for _, s := range allServices {
		args = append(args, "--"+s+"-addr", "127.0.0.1:0")
	}
	return args
}

func TestServeAllRunsEveryService(t *testing.T) {
	_, addrs, _ := startServe(t, len(allServices)+1, serveAllArgs(t)...)
	if len(addrs) != len(allServices)+1 || addrs["admin"] == "" {
		t.Fatalf("ready lines: %v", addrs)
	}
}

func TestServeReportsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(binary, "serve", "echo", "--addr", ln.Addr().String()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, output %s", err, out)
	}
	if !strings.Contains(string(out), "address already in use") || !strings.Contains(string(out), ln.Addr().String()) {
		t.Fatalf("output does not say where and why: %s", out)
	}
}

func TestHelpVersionAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"serve", "echo", "--help"}, {"bench", "echo", "--help"}, {"version"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
		if len(out) == 0 {
			t.Errorf("%v printed nothing", args)
		}
	}
	for _, args := range [][]string{{}, {"nope"}, {"serve", "nope"}, {"serve", "echo", "--nope"}} {
		err := exec.Command(binary, args...).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want 2", args, err)
		}
	}
}
