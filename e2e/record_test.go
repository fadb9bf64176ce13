// End-to-end tests of the recorder: the real binary serving, sending,
// listing and exporting, stopped by SIGTERM under load and by kill -9, and
// two instances writing into one PostgreSQL database.

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/overlap-go/overlap/internal/storetest"
	"github.com/overlap-go/overlap/store"
)

// overlap runs the binary to completion and returns its stdout.
func overlap(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("overlap %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func countIn(t *testing.T, url string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(overlap(t, nil, "records", "count", "--store", url)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordSendListShowExport(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "rec.db")
	_, addrs, _ := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url)
	addr := addrs["record"]
	file := filepath.Join(t.TempDir(), "body.txt")
	os.WriteFile(file, []byte("hello from a file\n<script>alert(1)</script>\n"), 0o644)
	if out := overlap(t, nil, "send", "record", "--addr", addr, file); !strings.Contains(out, "sent 44 bytes") {
		t.Fatalf("send output %q", out)
	}
	binaryBody := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
	overlap(t, binaryBody, "send", "record", "--addr", addr, "-")
	// send returns once the recorder has closed, i.e. received; the commit
	// follows within a batch: wait for it through the CLI itself.
	deadline := time.Now().Add(20 * time.Second)
	for countIn(t, url) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("records never stored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	list := overlap(t, nil, "records", "list", "--store", url)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "hex:000102fffe78") || !strings.Contains(lines[2], `hello from a file\n<script>`) {
		t.Fatalf("list (newest first, header + 2):\n%s", list)
	}
	id := strings.Fields(lines[2])[0]
	show := overlap(t, nil, "records", "show", "--store", url, id)
	if !strings.Contains(show, "body (text):\nhello from a file\n<script>alert(1)</script>\n") || !strings.Contains(show, "ended:       closed") {
		t.Fatalf("show:\n%s", show)
	}
	hexShow := overlap(t, nil, "records", "show", "--store", url, strings.Fields(lines[1])[0])
	if !strings.Contains(hexShow, "body (hex):\n00000000  00 01 02 ff fe 78") {
		t.Fatalf("show of a binary body:\n%s", hexShow)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "1h"}, "2"},
		{[]string{"--until", "1h"}, "0"},
		{[]string{"--ip", "127.0.0.1"}, "2"},
		{[]string{"--ip", "10.9.9.9"}, "0"},
		{[]string{"--max-size", "10"}, "1"},
	} {
		if n := strings.TrimSpace(overlap(t, nil, append([]string{"records", "count", "--store", url}, c.args...)...)); n != c.want {
			t.Errorf("count %v: %s, want %s", c.args, n, c.want)
		}
	}
	if out := overlap(t, nil, "records", "list", "--store", url, "--min-size", "10"); strings.Count(out, "\n") != 2 {
		t.Fatalf("list --min-size 10:\n%s", out)
	}
	jsonl := overlap(t, nil, "records", "export", "--store", url, "--format", "jsonl")
	var rows []struct {
		ID   int64  `json:"id"`
		Body string `json:"body_base64"`
		IP   string `json:"client_ip"`
	}
	for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var r struct {
			ID   int64  `json:"id"`
			Body string `json:"body_base64"`
			IP   string `json:"client_ip"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("jsonl line %q: %v", l, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[1].Body != base64.StdEncoding.EncodeToString(binaryBody) || rows[0].IP != "127.0.0.1" {
		t.Fatalf("export jsonl (oldest first): %+v", rows)
	}
	csv := overlap(t, nil, "records", "export", "--store", url, "--format", "csv")
	if !strings.HasPrefix(csv, "id,received_at,client_ip,client_port,server_addr,size,ended,body_base64\n") || strings.Count(csv, "\n") != 3 {
		t.Fatalf("csv:\n%s", csv)
	}
}

// loadGen runs clients that each send connections of 200 unique lines
// until stop is closed. A connection counts as acknowledged when the
// recorder closes it after the client's end of stream (EOF) before
// mark() was called: such a connection was read whole by a running server.
type loadGen struct {
	received atomic.Int64 // lines in acknowledged connections
	marked   atomic.Bool
	mu       sync.Mutex
	acked    []string // "client-conn" of connections acknowledged before mark
	wg       sync.WaitGroup
}

func startLoad(addr string, n int, stop <-chan struct{}) *loadGen {
	g := &loadGen{}
	for i := range n {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			for conn := 0; ; conn++ {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return // the server is gone
				}
				var buf bytes.Buffer
				for k := range 200 {
					fmt.Fprintf(&buf, "%d-%d %d\n", i, conn, k)
				}
				_, werr := c.Write(buf.Bytes())
				c.(*net.TCPConn).CloseWrite()
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				n, err := c.Read(make([]byte, 1))
				if werr == nil && n == 0 && errors.Is(err, io.EOF) && !g.marked.Load() {
					g.received.Add(200)
					g.mu.Lock()
					g.acked = append(g.acked, fmt.Sprintf("%d-%d", i, conn))
					g.mu.Unlock()
				}
				c.Close()
			}
		}()
	}
	return g
}

// TestSIGTERMUnderLoadStoresEverythingReceived: every record the server
// received is stored (its own count at exit equals the store's), every
// connection it had read whole before the signal is stored whole, and no
// line is stored twice.
func TestSIGTERMUnderLoadStoresEverythingReceived(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "term.db")
	cmd, addrs, stderr := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url, "--framing", "lines")
	stop := make(chan struct{})
	g := startLoad(addrs["record"], 20, stop)
	for g.received.Load() < 20000 {
		time.Sleep(5 * time.Millisecond) // let the load build up
	}
	g.marked.Store(true)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	close(stop)
	g.wg.Wait()
	stored := countIn(t, url)
	if !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Fatalf("logs:\n%s", stderr.String())
	}
	// The server's own count of what it received equals what is stored.
	m := regexp.MustCompile(`records_received=(\d+) records_stored=(\d+)`).FindStringSubmatch(stderr.String())
	if m == nil || m[1] != m[2] || m[2] != strconv.FormatInt(stored, 10) {
		t.Fatalf("received vs stored at exit %v, store holds %d; logs:\n%s", m, stored, stderr.String())
	}
	out := overlap(t, nil, "records", "export", "--store", url)
	perConn := map[string]int{}
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Body []byte `json:"body_base64"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if seen[string(r.Body)] {
			t.Fatalf("line %q stored twice", r.Body)
		}
		seen[string(r.Body)] = true
		conn, _, _ := strings.Cut(string(r.Body), " ")
		perConn[conn]++
	}
	for _, conn := range g.acked {
		if perConn[conn] != 200 {
			t.Fatalf("connection %s was read whole before SIGTERM, but %d of its 200 lines are stored", conn, perConn[conn])
		}
	}
	t.Logf("%d connections acknowledged before SIGTERM, %d records stored, server received %s", len(g.acked), stored, m[1])
}

// TestKill9KeepsCommittedRecords: after kill -9 the database opens cleanly
// and holds every record committed before the kill.
func TestKill9KeepsCommittedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kill.db")
	url := "sqlite:" + path
	cmd, addrs, _ := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url, "--framing", "lines")
	stop := make(chan struct{})
	g := startLoad(addrs["record"], 10, stop)
	for g.received.Load() < 10000 {
		time.Sleep(5 * time.Millisecond)
	}
	// What is committed now must survive: read it through a second
	// connection to the live database, then kill.
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.Count(context.Background(), store.Filter{})
	st.Close()
	if err != nil || before == 0 {
		t.Fatalf("committed before the kill: %d, %v", before, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	close(stop)
	g.wg.Wait()
	after := countIn(t, url)
	if after < before {
		t.Fatalf("%d records committed before kill -9, %d after", before, after)
	}
	// The database is whole, and a new server appends to it.
	if out := overlap(t, nil, "records", "list", "--store", url, "--limit", "1"); !strings.Contains(out, "framed") {
		t.Fatalf("list after kill -9:\n%s", out)
	}
	_, addrs, _ = startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url)
	overlap(t, []byte("after the crash"), "send", "record", "--addr", addrs["record"])
	deadline := time.Now().Add(20 * time.Second)
	for countIn(t, url) != after+1 {
		if time.Now().After(deadline) {
			t.Fatal("the restarted server did not store")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoServersOnePostgres: two overlap processes on different ports write
// into one database; no record is lost or duplicated.
func TestTwoServersOnePostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	var cmds []*exec.Cmd
	var addrList []string
	for range 2 {
		cmd, addrs, _ := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url)
		cmds = append(cmds, cmd)
		addrList = append(addrList, addrs["record"])
	}
	var wg sync.WaitGroup
	const perServer = 300
	for s, addr := range addrList {
		for i := range perServer {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				fmt.Fprintf(c, "server %d client %d", s, i)
				c.(*net.TCPConn).CloseWrite()
				c.Read(make([]byte, 1))
			}()
		}
	}
	wg.Wait()
	for _, cmd := range cmds {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	out := overlap(t, nil, "records", "export", "--store", url, "--format", "csv")
	seen := map[string]bool{}
	re := regexp.MustCompile(`,([A-Za-z0-9+/=]+)$`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		m := re.FindStringSubmatch(l)
		b, _ := base64.StdEncoding.DecodeString(m[1])
		if seen[string(b)] {
			t.Fatalf("duplicate %q", b)
		}
		seen[string(b)] = true
	}
	if len(seen) != 2*perServer {
		t.Fatalf("%d distinct records, want %d", len(seen), 2*perServer)
	}
}

func TestRecordAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(binary, "serve", "record", "--addr", ln.Addr().String(), "--store", "sqlite:"+filepath.Join(t.TempDir(), "x.db")).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, output %s", err, out)
	}
	if !strings.Contains(string(out), "record: listen tcp "+ln.Addr().String()) || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("output does not name the address and the cause:\n%s", out)
	}
}

// TestRecordsTailFollows: `records tail -f` prints a record stored after it
// started.
func TestRecordsTailFollows(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "tail.db")
	_, addrs, _ := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url)
	overlap(t, []byte("before tail"), "send", "record", "--addr", addrs["record"])
	for countIn(t, url) != 1 {
		time.Sleep(10 * time.Millisecond)
	}
	tail := exec.Command(binary, "records", "tail", "-f", "--store", url)
	out, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tail.Process.Signal(syscall.SIGTERM); tail.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(what string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("tail ended before %q", what)
				}
				if strings.Contains(l, what) {
					return
				}
			case <-timeout:
				t.Fatalf("tail never printed %q", what)
			}
		}
	}
	expect("before tail")
	overlap(t, []byte("after tail"), "send", "record", "--addr", addrs["record"])
	expect("after tail")
}

// TestExportBigBodiesInBatches: export reads bodies a few at a time; every
// byte of bodies larger than one batch still comes out.
func TestExportBigBodiesInBatches(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "big.db")
	_, addrs, _ := startServe(t, 1, "record", "--addr", "127.0.0.1:0", "--store", url)
	sizes := []int{5 << 20, 5 << 20, 1, 6 << 20}
	for i, n := range sizes {
		overlap(t, bytes.Repeat([]byte{byte('a' + i)}, n), "send", "record", "--addr", addrs["record"])
	}
	for countIn(t, url) != int64(len(sizes)) {
		time.Sleep(20 * time.Millisecond)
	}
	out := overlap(t, nil, "records", "export", "--store", url)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(sizes) {
		t.Fatalf("%d rows exported", len(lines))
	}
	for i, l := range lines {
		var r struct {
			Body []byte `json:"body_base64"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Body, bytes.Repeat([]byte{byte('a' + i)}, sizes[i])) {
			t.Fatalf("row %d: %d bytes, want %d", i, len(r.Body), sizes[i])
		}
	}
	show := overlap(t, nil, "records", "show", "--store", url, "3")
	if !strings.Contains(show, "body (text):\nc") {
		t.Fatalf("show:\n%s", show)
	}
}

// TestBenchRecordCountsOnlyCommitted: the records benchmark stores every
// record its clients sent, and says so.
func TestBenchRecordCountsOnlyCommitted(t *testing.T) {
	out := overlap(t, nil, "bench", "record", "--conns", "4", "--size", "64", "--duration", "300ms", "--json", "--quiet")
	var r struct {
		Sent   int64   `json:"records_sent"`
		Stored int64   `json:"records_stored"`
		Rate   float64 `json:"records_per_sec"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench record --json: %v\n%s", err, out)
	}
	if r.Sent == 0 || r.Stored != r.Sent || r.Rate <= 0 {
		t.Fatalf("bench record: %+v", r)
	}
}
