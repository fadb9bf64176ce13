package orders

// Tests against real WCF, on Mono: a WCF client of our service, and our Go
// client of a WCF service host. The C# programs are in testdata/wcf and are
// compiled with mcs at test time; scripts/deps/mono.sh installs Mono. They
// skip when Mono is missing, except under CI=true, where they fail.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overlap-go/overlap/protocols/nettcp"
)

// monoTool finds a Mono tool: $OVERLAP_MONO / $OVERLAP_MCS, else PATH.
func monoTool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (run scripts/deps/mono.sh); the WCF tests do not skip in CI", name)
	}
	t.Skipf("%s not found; scripts/deps/mono.sh installs Mono", name)
	return ""
}

// compileCS compiles the contract and one program into an .exe.
func compileCS(t *testing.T, program string) (mono, exe string) {
	t.Helper()
	mcs := monoTool(t, "OVERLAP_MCS", "mcs")
	mono = monoTool(t, "OVERLAP_MONO", "mono")
	exe = filepath.Join(t.TempDir(), strings.TrimSuffix(program, ".cs")+".exe")
	out, err := exec.Command(mcs, "-nologo", "-out:"+exe,
		"-r:System.ServiceModel.dll", "-r:System.Runtime.Serialization.dll", "-r:System.Xml.dll",
		"testdata/wcf/contract.cs", "testdata/wcf/"+program).CombinedOutput()
	if err != nil {
		t.Fatalf("mcs %s: %v\n%s", program, err, out)
	}
	return mono, exe
}

// runWCFClient runs a C# client program against the service in process:
// it streams messages × perMessage orders, calls Order and OrderStatus and
// provokes the OrderNotFound fault. It checks what the client printed and
// what the service printed and stored, and returns the store and the id
// the Order call got.
func runWCFClient(t *testing.T, program string, messages, perMessage int) (*MemStore, int) {
	t.Helper()
	mono, exe := compileCS(t, program)
	var printed bytes.Buffer
	store := &MemStore{}
	svc := &Service{Store: store, Out: &printed}
	_, url := start(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, mono, exe, url, fmt.Sprint(messages), fmt.Sprint(perMessage)).CombinedOutput()
	if err != nil {
		t.Fatalf("WCF client: %v\n%s", err, out)
	}
	// One-way messages are consumed concurrently with the later request, so
	// the new order's id is not known in advance: only that the status call
	// finds the order the confirmation named.
	n := messages * perMessage
	head := fmt.Sprintf("streamed %d\n", n)
	var id int
	if _, err := fmt.Sscanf(strings.TrimPrefix(string(out), head), "confirmation %d ", &id); err != nil ||
		!strings.HasPrefix(string(out), head+"confirmation ") ||
		!strings.Contains(string(out), fmt.Sprintf("\nstatus %d accepted\n", id)) ||
		!strings.Contains(string(out), "\nfault 99999\n") {
		t.Fatalf("WCF client printed:\n%s", out)
	}
	svc.flush()
	lines := strings.Split(strings.TrimSpace(printed.String()), "\n")
	if len(lines) != n || lines[0] != "1, Widget" || lines[n-1] != fmt.Sprintf("%d, Widget", n) {
		t.Fatalf("server printed %d lines, first %q", len(lines), lines[0])
	}
	return store, id
}

// TestWCFClient: a stock WCF client (CustomBinding of text SOAP 1.2 +
// WS-Addressing 1.0 over TcpTransport) streams one-way orders with a custom
// BodyWriter, calls Order and OrderStatus, and gets OrderNotFound as a typed
// FaultException<OrderNotFoundFaultType>.
func TestWCFClient(t *testing.T) {
	store, id := runWCFClient(t, "client.cs", 3, 400)
	streamed := 1200 // an id the streamed orders took: the request took id
	if id == streamed {
		streamed = 1201
	}
	if o, err := store.Get(context.Background(), uint32(streamed)); err != nil || o.Status != StatusReceived {
		t.Fatalf("order %d: %+v %v", streamed, o, err)
	}
}

// TestWCFStockNetTcpClient: a WCF client with a stock
// NetTcpBinding(SecurityMode.None), nothing configured but the address, so
// known encoding 8 (binary XML, in-band dictionary): one-way orders, Order,
// OrderStatus and the typed OrderNotFound fault.
func TestWCFStockNetTcpClient(t *testing.T) {
	runWCFClient(t, "stockclient.cs", 3, 100)
}

// TestGoClientOfWCFService: our generated client against a WCF service
// host: request/reply, the typed fault, and a streamed one-way body.
func TestGoClientOfWCFService(t *testing.T) {
	mono, exe := compileCS(t, "server.cs")
	port, port2 := freePort(t), freePort(t)
	cmd := exec.Command(mono, exe, fmt.Sprint(port), fmt.Sprint(port2))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("WCF host exited; stderr:\n%s", stderr.String())
			}
			return l
		case <-time.After(60 * time.Second):
			t.Fatalf("WCF host said nothing for 60s; stderr:\n%s", stderr.String())
		}
		return ""
	}
	if l := next(); l != "ready" {
		t.Fatalf("WCF host: %q", l)
	}

	eng, _ := start(t, &Service{})
	ctx := context.Background()
	ch, err := nettcp.Dial(ctx, eng, fmt.Sprintf("net.tcp://127.0.0.1:%d/example", port), nettcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := IPurchaseOrderClient{Ch: ch}
	conf, err := c.Order(&PurchaseOrderType{Quantity: 2, ProductName: "Chair"})
	if err != nil {
		t.Fatal(err)
	}
	if conf.OrderID != 1 || conf.ExpectedShipDate != "2026-12-01" {
		t.Fatalf("confirmation %+v", conf)
	}
	st, err := c.OrderStatus(&GetOrderStatusType{OrderID: 1})
	if err != nil || st.Status != "accepted" {
		t.Fatalf("status %+v %v", st, err)
	}
	_, err = c.OrderStatus(&GetOrderStatusType{OrderID: 42})
	var nf *OrderNotFoundFault
	if !errors.As(err, &nf) || nf.Detail.OrderID != 42 || nf.Reason != "order not found" {
		t.Fatalf("fault: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}

	sch, err := nettcp.Dial(ctx, eng, fmt.Sprintf("net.tcp://127.0.0.1:%d/stream", port2), nettcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]PurchaseOrderType, 1000)
	for i := range batch {
		batch[i] = PurchaseOrderType{Quantity: int32(i + 1), ProductName: "Pen"}
	}
	for i := 0; i < 2; i++ {
		if err := (IPurchaseOrderClient{Ch: sch}).SendOrder(batch); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if l := next(); l != "received 1000 500500" {
			t.Fatalf("WCF host: %q", l)
		}
	}
	sch.Close()
}

// TestGoBinaryClientOfStockWCFService: our client in binary (known
// encoding 8) against a WCF host with a stock NetTcpBinding: Mono reads our
// records (a product name that is a static dictionary string goes as a
// dictionary reference, another is not ASCII) and we read Mono's, whose
// string tables the later replies refer back to.
func TestGoBinaryClientOfStockWCFService(t *testing.T) {
	mono, exe := compileCS(t, "stockserver.cs")
	port := freePort(t)
	cmd := exec.Command(mono, exe, fmt.Sprint(port))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ready <- sc.Scan() && sc.Text() == "ready"
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("WCF host did not start; stderr:\n%s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("WCF host said nothing for 60s; stderr:\n%s", stderr.String())
	}

	eng, _ := start(t, &Service{})
	ch, err := nettcp.Dial(context.Background(), eng, fmt.Sprintf("net.tcp://127.0.0.1:%d/example", port), nettcp.Config{Binary: true})
	if err != nil {
		t.Fatal(err)
	}
	c := IPurchaseOrderClient{Ch: ch}
	for i, name := range []string{"Envelope", "Stühle <&>", "Envelope"} {
		conf, err := c.Order(&PurchaseOrderType{Quantity: int32(i + 2), ProductName: name})
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		if want := fmt.Sprintf("%s x%d", name, i+2); conf.OrderID != uint32(i+1) || conf.ExpectedShipDate != want {
			t.Fatalf("confirmation %+v, want id %d, %q", conf, i+1, want)
		}
	}
	st, err := c.OrderStatus(&GetOrderStatusType{OrderID: 1})
	if err != nil || st.Status != "accepted" || st.OrderID != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
	_, err = c.OrderStatus(&GetOrderStatusType{OrderID: 42})
	var nf *OrderNotFoundFault
	if !errors.As(err, &nf) || nf.Detail.OrderID != 42 || nf.Reason != "order not found" {
		t.Fatalf("fault: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a port that was free a moment ago (Mono's service host
// cannot listen on port 0 and report it).
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
