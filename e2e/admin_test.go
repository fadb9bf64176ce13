// End-to-end tests of the admin page: its JSON API against the real binary,
// and the page itself in a real headless Chromium (Debian's), driven with
// chromedp.

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// apiCall does one admin API request and decodes the JSON answer.
func apiCall(t *testing.T, method, url, csrf, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q, body %s", method, url, ct, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode
}

type apiService struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Addr    string `json:"addr"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

func TestAdminAPI(t *testing.T) {
	_, addrs, _ := startServe(t, len(allServices)+1, serveAllArgs(t)...)
	base := "http://" + addrs["admin"]
	var st struct {
		Host struct {
			Name string `json:"name"`
		} `json:"host"`
		Services []apiService `json:"services"`
	}
	if code := apiCall(t, "GET", base+"/api/status", "", "", "", &st); code != 200 || st.Host.Name == "" || len(st.Services) != len(allServices) {
		t.Fatalf("status %d: %+v", code, st)
	}
	var errBody struct {
		Error string `json:"error"`
	}
	if code := apiCall(t, "POST", base+"/api/services/record/stop", "", "", "", &errBody); code != 403 || !strings.Contains(errBody.Error, "CSRF") {
		t.Fatalf("a POST without the CSRF header: %d %+v", code, errBody)
	}
	var sess struct {
		CSRF string `json:"csrf"`
	}
	apiCall(t, "GET", base+"/api/session", "", "", "", &sess)
	var svc apiService
	if code := apiCall(t, "POST", base+"/api/services/record/stop", sess.CSRF, "", "", &svc); code != 200 || svc.Running || svc.Status != "Stopped" {
		t.Fatalf("stop: %d %+v", code, svc)
	}
	if c, err := net.Dial("tcp", addrs["record"]); err == nil {
		c.Close()
		t.Fatal("the stopped recorder accepted a connection")
	}
	// Starting on an address in use fails with the exact error, kept in the status.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if code := apiCall(t, "POST", base+"/api/services/record/start", sess.CSRF, "", fmt.Sprintf(`{"addr":%q}`, busy.Addr()), &errBody); code != 409 || !strings.Contains(errBody.Error, "address already in use") {
		t.Fatalf("start on a busy address: %d %+v", code, errBody)
	}
	apiCall(t, "GET", base+"/api/status", "", "", "", &st)
	if st.Services[1].Name != "record" || !strings.Contains(st.Services[1].Status, "address already in use") {
		t.Fatalf("status after a failed start: %+v", st.Services[1])
	}
	if code := apiCall(t, "POST", base+"/api/services/record/start", sess.CSRF, "", `{"addr":"127.0.0.1:0"}`, &svc); code != 200 || !svc.Running {
		t.Fatalf("start: %d %+v", code, svc)
	}
	overlap(t, []byte("via the API"), "send", "record", "--addr", svc.Addr)
	for _, bad := range []struct{ method, path, body string }{
		{"POST", "/api/services/nope/start", ""},
		{"POST", "/api/services/record/start", `{"addr":`},
		{"POST", "/api/services/echo/start", `{"addr":"no-port"}`},
		{"GET", "/api/records/xyz", ""},
		{"GET", "/api/records/999999", ""},
		{"GET", "/api/records?limit=0", ""},
		{"GET", "/api/nothing", ""},
	} {
		errBody.Error = ""
		code := apiCall(t, bad.method, base+bad.path, sess.CSRF, "", bad.body, &errBody)
		if code < 400 || errBody.Error == "" {
			t.Errorf("%s %s: %d %+v, want an error with a message", bad.method, bad.path, code, errBody)
		}
	}
	var recs []struct {
		ID      int64  `json:"id"`
		Preview string `json:"preview"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(recs) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the record never showed in /api/records")
		}
		apiCall(t, "GET", base+"/api/records", "", "", "", &recs)
		time.Sleep(20 * time.Millisecond)
	}
	if recs[0].Preview != "via the API" {
		t.Fatalf("records: %+v", recs)
	}
	resp, err := http.Get(fmt.Sprintf("%s/api/records/%d/body", base, recs[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "via the API" || resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("body download: %q %v", body, resp.Header)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`overlap_up{service="record"} 1`, `overlap_records_stored_total{service="record"} 1`, `overlap_open_connections{service="echo"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	// overlap status reads the same API.
	out := overlap(t, nil, "status", "--admin", addrs["admin"])
	if !strings.Contains(out, "record") || !strings.Contains(out, "Running") {
		t.Fatalf("overlap status:\n%s", out)
	}
}

// TestAdminTokenOffLoopback: bound to all interfaces, the admin page prints
// a token and refuses requests without it.
func TestAdminTokenOffLoopback(t *testing.T) {
	args := serveAllArgs(t)
	for i := range args {
		if args[i] == "--admin" {
			args[i+1] = "0.0.0.0:0"
		}
	}
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var adminAddr, token string
	buf := make([]byte, 4096)
	var text string
	for token == "" {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("serve output ended: %q", text)
		}
		text += string(buf[:n])
		for _, l := range strings.Split(text, "\n") {
			if a, ok := strings.CutPrefix(l, "admin listening on "); ok {
				adminAddr = a
			}
			if tok, ok := strings.CutPrefix(l, "admin token "); ok && strings.HasSuffix(text, "\n") {
				token = tok
			}
		}
	}
	go io.Copy(io.Discard, stdout)
	_, port, _ := net.SplitHostPort(adminAddr)
	base := "http://127.0.0.1:" + port
	var errBody struct {
		Error string `json:"error"`
	}
	if code := apiCall(t, "GET", base+"/api/status", "", "", "", &errBody); code != 401 || !strings.Contains(errBody.Error, "token") {
		t.Fatalf("without a token: %d %+v", code, errBody)
	}
	if code := apiCall(t, "GET", base+"/api/status", "", "wrong", "", &errBody); code != 401 {
		t.Fatalf("with a wrong token: %d", code)
	}
	if code := apiCall(t, "GET", base+"/api/status", "", token, "", nil); code != 200 {
		t.Fatalf("with the token: %d", code)
	}
}

// Helpers over chromedp's typed actions.
type step = chromedp.Action[chromedp.Void]

// waitJS waits until a JavaScript expression is true on the page.
func waitJS(expr string) step {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr)(ctx, tg)
		return err
	})
}

func do(t *testing.T, ctx context.Context, steps ...step) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// browser starts headless Chromium for a test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("OVERLAP_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium in CI: scripts/deps/chromium.sh should have installed it")
		}
		t.Skip("no chromium: run ./scripts/test, which installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAdminPageInChromium drives the page as a user would.
func TestAdminPageInChromium(t *testing.T) {
	_, addrs, _ := startServe(t, len(allServices)+1, serveAllArgs(t)...)
	ctx := browser(t)
	rec := `tr[data-service="record"]`
	status := `document.querySelector('` + rec + ` .status').textContent`
	do(t, ctx,
		chromedp.Navigate("http://"+addrs["admin"]+"/"),
		chromedp.WaitVisible(chromedp.CSS(rec+` .status`)),
		waitJS(`document.querySelector('#host-name').textContent !== '…'`),
		waitJS(status+` === 'Running'`),
	)
	if h, _ := os.Hostname(); text(t, ctx, "#host-name") != h {
		t.Fatalf("host name on the page %q, want %q", text(t, ctx, "#host-name"), h)
	}
	for _, s := range allServices {
		if n := evalInt(t, ctx, fmt.Sprintf(`document.querySelectorAll('tr[data-service=%q]').length`, s)); n != 1 {
			t.Fatalf("service %s on the page: %d rows", s, n)
		}
	}
	// Stop the recorder: a client is refused.
	do(t, ctx, chromedp.Click(chromedp.CSS(rec+` button.stop`)), waitJS(status+` === 'Stopped'`))
	if c, err := net.Dial("tcp", addrs["record"]); err == nil {
		c.Close()
		t.Fatal("a client connected to the stopped recorder")
	}
	// A new port, Start.
	newAddr := freeAddr(t)
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(rec+` input.addr`), newAddr),
		chromedp.Click(chromedp.CSS(rec+` button.start`)),
		waitJS(status+` === 'Running'`),
	)
	// A record sent with the CLI appears without reload; its body, holding
	// a script, is shown as text and never run.
	body := "<script>window.pwned = 1</script><b>bold?</b> hello from the CLI"
	overlap(t, []byte(body), "send", "record", "--addr", newAddr)
	do(t, ctx, waitJS(`document.querySelectorAll('#records tbody tr').length > 0`))
	preview := text(t, ctx, `#records tbody tr td.preview`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#records tbody tr`)), chromedp.WaitVisible(chromedp.CSS(`#body-text`)))
	shown := text(t, ctx, `#body-text`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#show-hex`)), chromedp.WaitVisible(chromedp.CSS(`#body-hex`)))
	hexShown := text(t, ctx, `#body-hex`)
	pwned := evalInt(t, ctx, `window.pwned === undefined ? 0 : 1`)
	injected := evalInt(t, ctx, `document.querySelectorAll('main script, main b').length`)
	if !strings.HasPrefix(preview, "<script>window.pwned") || shown != body || pwned != 0 || injected != 0 {
		t.Fatalf("preview %q, body shown %q, script ran %d, elements from the body %d", preview, shown, pwned, injected)
	}
	if !strings.Contains(hexShown, "3c 73 63 72 69 70 74 3e") {
		t.Fatalf("hex view: %q", hexShown)
	}
	if path := os.Getenv("OVERLAP_ADMIN_SCREENSHOT"); path != "" {
		screenshot(t, ctx, addrs, newAddr, path)
	}
}

// screenshot puts the services under load for a few seconds and saves the
// page: docs/admin.png is made this way (see docs/API.md).
func screenshot(t *testing.T, ctx context.Context, addrs map[string]string, recAddr, path string) {
	load := exec.Command(binary, "bench", "echo", "--addr", addrs["echo"], "--conns", "20", "--duration", "10s", "--quiet")
	load.Start()
	defer load.Wait()
	stop := make(chan struct{})
	g := startLoad(recAddr, 8, stop)
	defer func() { close(stop); g.wg.Wait() }()
	do(t, ctx, chromedp.Click(chromedp.CSS(`#detail-close`)), chromedp.Sleep(8*time.Second)) // let the chart fill: a picture, not a test
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Clean(path), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
