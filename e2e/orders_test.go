package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAndSendOrders runs `overlap serve orders` and `overlap send
// orders` as a user would: the server prints every streamed order as the
// seed does, and the sender gets its confirmation.
func TestServeAndSendOrders(t *testing.T) {
	cmd := exec.Command(binary, "serve", "orders", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || (strings.HasPrefix(sc.Text(), "host ") && !sc.Scan()) {
		t.Fatalf("no ready line; stderr:\n%s", stderr.String())
	}
	m := readyLine.FindStringSubmatch(sc.Text())
	if m == nil || m[1] != "orders" {
		t.Fatalf("ready line %q", sc.Text())
	}
	url := fmt.Sprintf("net.tcp://%s/example", m[2])
	out, err := exec.Command(binary, "send", "orders", "--url", url, "--count", "250", "--per-message", "100", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "sent 250 orders in 3 messages") {
		t.Fatalf("send printed %q", out)
	}
	for i := 1; i <= 250; i++ {
		if !sc.Scan() {
			t.Fatalf("server printed %d orders; stderr:\n%s", i-1, stderr.String())
		}
		if want := fmt.Sprintf("%d, Pencil", i); sc.Text() != want {
			t.Fatalf("line %d: %q, want %q", i, sc.Text(), want)
		}
	}
	// A wrong path is refused with the framing fault, named.
	out, err = exec.Command(binary, "send", "orders", "--url", strings.Replace(url, "/example", "/nope", 1), "--count", "1", "--quiet").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "EndpointNotFound") {
		t.Fatalf("wrong path: %v %s", err, out)
	}
}

// TestGenWSDLMatchesCheckedIn runs `overlap gen wsdl` on the seed's WSDL and
// compares with the checked-in code.
func TestGenWSDLMatchesCheckedIn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "po.go")
	if b, err := exec.Command(binary, "gen", "wsdl", "-package", "orders", "-o", out, "../services/orders/PurchaseOrder.wsdl").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("../services/orders/purchaseorder_wsdl.go")
	if string(got) != string(want) || len(got) == 0 {
		t.Fatal("overlap gen wsdl output differs from services/orders/purchaseorder_wsdl.go")
	}
}
