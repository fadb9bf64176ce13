// End-to-end tests of the pipes service: the real binary, driven by
// independent clients (Debian's python3-grpcio and Node's @grpc/grpc-js,
// installed by scripts/deps/pipes.sh) and by `overlap send pipe`.

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tool returns the path of an outside program the test needs. When it is
// missing the test fails under CI (CI=true), where scripts/deps/pipes.sh
// must have installed it, and is skipped elsewhere, saying why.
func tool(t *testing.T, env, fallback string, check ...string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p, _ = exec.LookPath(fallback)
	}
	missing := p == ""
	if !missing {
		if _, err := os.Stat(p); err != nil {
			missing = true
		}
	}
	for _, f := range check {
		if _, err := os.Stat(f); err != nil {
			missing = true
		}
	}
	if missing {
		absent(t, fallback+" (or "+strings.Join(check, ", ")+") not installed")
	}
	return p
}

// absent fails under CI and skips elsewhere.
func absent(t *testing.T, what string) {
	t.Helper()
	msg := what + "; scripts/deps/pipes.sh installs it"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (under CI=true this fails instead of skipping)")
}

// clientResult is what both peer clients print.
type clientResult struct {
	Ints struct {
		Out      [][]int32        `json:"out"`
		OutEnded bool             `json:"out_ended"`
		Reply    map[string]int64 `json:"reply"`
	} `json:"ints"`
	Orders struct {
		OutEnded      bool `json:"out_ended"`
		Confirmations [][]struct {
			OrderID        string `json:"order_id"`
			ConfirmationID string `json:"confirmation_id"`
			Lines          int32  `json:"lines"`
			TotalCents     int64  `json:"total_cents"`
		} `json:"confirmations"`
		Summary struct {
			BatchID    string `json:"batch_id"`
			Orders     int64  `json:"orders"`
			Lines      int64  `json:"lines"`
			TotalCents int64  `json:"total_cents"`
		} `json:"summary"`
	} `json:"orders"`
	Abort   map[string]string `json:"abort"`
	Invalid map[string]string `json:"invalid"`
}

func checkClientResult(t *testing.T, out []byte, batch string) {
	t.Helper()
	var r clientResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	wantOut := [][]int32{{6, 7, 8}, {9, 10}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}}
	if !reflect.DeepEqual(r.Ints.Out, wantOut) {
		t.Errorf("IntPipe [out] pipe %v, want %v", r.Ints.Out, wantOut)
	}
	if !r.Ints.OutEnded || !r.Orders.OutEnded {
		t.Errorf("no empty chunk ended the [out] pipe: ints %v, orders %v", r.Ints.OutEnded, r.Orders.OutEnded)
	}
	wantReply := map[string]int64{"b": 10, "in_chunks": 2, "in_values": 5, "in_sum": 15, "out_chunks": 5, "out_values": 17}
	if !reflect.DeepEqual(r.Ints.Reply, wantReply) {
		t.Errorf("IntPipe reply %v, want %v", r.Ints.Reply, wantReply)
	}
	c := r.Orders.Confirmations
	if len(c) != 2 || len(c[0]) != 2 || len(c[1]) != 1 ||
		c[0][0].OrderID != "A" || c[0][0].ConfirmationID != batch+"-1" || c[0][0].TotalCents != 2100 || c[0][0].Lines != 2 ||
		c[0][1].OrderID != "B" || c[0][1].ConfirmationID != batch+"-2" || c[0][1].TotalCents != 250 ||
		c[1][0].OrderID != "C" || c[1][0].ConfirmationID != batch+"-3" || c[1][0].TotalCents != 101 {
		t.Errorf("Import confirmations %+v", c)
	}
	s := r.Orders.Summary
	if s.BatchID != batch || s.Orders != 3 || s.Lines != 6 || s.TotalCents != 2451 {
		t.Errorf("Import summary %+v", s)
	}
	if r.Abort["code"] != "ABORTED" || r.Abort["details"] != "aborted after 2 chunks, as asked" {
		t.Errorf("aborted IntPipe: %v", r.Abort)
	}
	if r.Invalid["code"] != "INVALID_ARGUMENT" || !strings.Contains(r.Invalid["details"], `order 1 ("A"): line 1: quantity 0`) {
		t.Errorf("invalid order: %v", r.Invalid)
	}
}

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{".."}, parts...)...)
}

// Both peer clients, against the binary serving over Go's net and over
// overlap's engine.
func TestPipesIndependentClients(t *testing.T) {
	for _, transport := range []string{"net", "overlap"} {
		t.Run(transport, func(t *testing.T) {
			_, addrs, stderr := startServe(t, 1, "pipes", "--addr", "127.0.0.1:0", "--transport", transport)
			addr := addrs["pipes"]
			t.Run("python3-grpcio", func(t *testing.T) {
				py := tool(t, "OVERLAP_PIPES_PYTHON", "python3")
				protoc := tool(t, "OVERLAP_PIPES_PROTOC", "protoc")
				if err := exec.Command(py, "-c", "import grpc, google.protobuf").Run(); err != nil {
					absent(t, py+" cannot import grpc and google.protobuf (python3-grpcio, python3-protobuf)")
				}
				out, err := output(py, repoPath("clients", "python", "pipes_client.py"), "--addr", addr, "--protoc", protoc)
				if err != nil {
					t.Fatalf("python client: %v\n%s\nserver:\n%s", err, out, stderr)
				}
				checkClientResult(t, out, "py")
			})
			t.Run("grpc-js", func(t *testing.T) {
				node := tool(t, "OVERLAP_PIPES_NODE", "node", repoPath("clients", "node", "node_modules", "@grpc", "grpc-js", "package.json"))
				out, err := output(node, repoPath("clients", "node", "pipes_client.js"), "--addr", addr)
				if err != nil {
					t.Fatalf("node client: %v\n%s\nserver:\n%s", err, out, stderr)
				}
				checkClientResult(t, out, "js")
			})
		})
	}
}

// output runs a command for a minute at most, returning stdout (and
// stderr on failure).
func output(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return []byte(string(out) + stderr.String()), err
	}
	return out, nil
}

func TestServePipesSendPipeAndStop(t *testing.T) {
	for _, transport := range []string{"net", "overlap"} {
		t.Run(transport, func(t *testing.T) { testServePipesSendPipeAndStop(t, transport) })
	}
}

func testServePipesSendPipeAndStop(t *testing.T, transport string) {
	cmd, addrs, stderr := startServe(t, 1, "pipes", "--addr", "127.0.0.1:0", "--transport", transport)
	addr := addrs["pipes"]
	for _, call := range []string{"ints", "orders"} {
		out, err := exec.Command(binary, "send", "pipe", "--addr", addr, "--call", call, "--chunks", "50", "--chunk-len", "10", "--json", "--quiet").Output()
		if err != nil {
			t.Fatalf("send pipe --call %s: %v\n%s", call, err, out)
		}
		var res struct {
			InChunks  int64   `json:"in_chunks"`
			OutChunks int64   `json:"out_chunks"`
			Reply     string  `json:"reply"`
			Chunks    float64 `json:"chunks_per_sec"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("send pipe --json output %q: %v", out, err)
		}
		if res.InChunks != 50 || res.OutChunks != 50 || res.Reply == "" || res.Chunks <= 0 {
			t.Fatalf("send pipe --call %s: %+v", call, res)
		}
	}
	// The progress bar goes to stderr, the summary to stdout.
	c := exec.Command(binary, "send", "pipe", "--addr", addr, "--chunks", "20", "--chunk-len", "5")
	var errOut strings.Builder
	c.Stderr = &errOut
	out, err := c.Output()
	if err != nil || !strings.Contains(string(out), "chunks/s") || !strings.Contains(string(out), "orders=100") {
		t.Fatalf("send pipe: %v\nstdout %s\nstderr %s", err, out, errOut.String())
	}

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGINT")
	}
	if !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Fatalf("logs:\n%s", stderr.String())
	}
}

func TestServeAllRunsPipes(t *testing.T) {
	_, addrs, _ := startServe(t, len(allServices), serveAllArgs(t)...)
	if addrs["echo"] == "" || addrs["pipes"] == "" {
		t.Fatalf("ready lines: %v", addrs)
	}
	out, err := exec.Command(binary, "send", "pipe", "--addr", addrs["pipes"], "--chunks", "5", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("send pipe: %v\n%s", err, out)
	}
}

func TestPipesHelpAndErrors(t *testing.T) {
	for _, args := range [][]string{{"serve", "pipes", "--help"}, {"send", "pipe", "--help"}, {"help", "send", "pipe"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil || len(out) == 0 {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	for _, args := range [][]string{{"send"}, {"send", "nope"}, {"serve", "pipes", "--transport", "carrier-pigeon"}} {
		err := exec.Command(binary, args...).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want 2", args, err)
		}
	}
	// Nothing listens there: send pipe fails, naming the address.
	out, err := exec.Command(binary, "send", "pipe", "--addr", "127.0.0.1:1", "--quiet", "--duration", "3s").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "127.0.0.1:1") {
		t.Errorf("send pipe to a closed port: %v\n%s", err, out)
	}
}
