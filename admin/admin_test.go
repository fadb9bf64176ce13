package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// listenerService is a real service in miniature: it listens on its
// address while started.
type listenerService struct {
	addr string
	ln   net.Listener
}

func (l *listenerService) Start() error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.ln = ln
	return nil
}

func (l *listenerService) Stop(context.Context) error {
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	return nil
}

func (l *listenerService) Addr() net.Addr {
	if l.ln == nil {
		return nil
	}
	return l.ln.Addr()
}

func (l *listenerService) SetAddr(a string) { l.addr = a }

func startAdmin(t *testing.T, addr, token string) (*Server, string) {
	t.Helper()
	svc := &listenerService{addr: "127.0.0.1:0"}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Addr: addr, Token: token, Services: []Entry{{Name: "svc", Service: svc, Addr: "127.0.0.1:0"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()); svc.Stop(context.Background()) })
	_, port, _ := net.SplitHostPort(s.Addr().String())
	return s, "http://127.0.0.1:" + port
}

func get(t *testing.T, c *http.Client, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestTokenByHeaderAndCookie(t *testing.T) {
	s, base := startAdmin(t, "0.0.0.0:0", "")
	tok := s.Token()
	if tok == "" {
		t.Fatal("no token generated off loopback")
	}
	if r := get(t, http.DefaultClient, base+"/api/status", nil); r.StatusCode != 401 {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	if r := get(t, http.DefaultClient, base+"/api/status", map[string]string{"Authorization": "Bearer " + tok}); r.StatusCode != 200 {
		t.Fatalf("bearer: %d", r.StatusCode)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if r := get(t, c, base+"/?token=wrong", nil); r.StatusCode != 401 {
		t.Fatalf("wrong token in the URL: %d", r.StatusCode)
	}
	if r := get(t, c, base+"/?token="+tok, nil); r.StatusCode != 200 || r.Request.URL.RawQuery != "" {
		t.Fatalf("token in the URL: %d at %s", r.StatusCode, r.Request.URL)
	}
	if r := get(t, c, base+"/api/status", nil); r.StatusCode != 200 {
		t.Fatalf("with the cookie: %d", r.StatusCode)
	}
}

func TestLoopbackNeedsNoTokenButChangesNeedCSRF(t *testing.T) {
	s, base := startAdmin(t, "127.0.0.1:0", "")
	if s.Token() != "" {
		t.Fatal("a token on loopback")
	}
	post := func(csrf string) int {
		req, _ := http.NewRequest("POST", base+"/api/services/svc/stop", nil)
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != 403 {
		t.Fatalf("POST without CSRF: %d", code)
	}
	if code := post("guess"); code != 403 {
		t.Fatalf("POST with a wrong CSRF token: %d", code)
	}
	page := get(t, http.DefaultClient, base+"/", nil)
	var html strings.Builder
	sc := bufio.NewScanner(page.Body)
	for sc.Scan() {
		html.WriteString(sc.Text())
	}
	if !strings.Contains(html.String(), `content="`+s.csrf+`"`) || !strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatal("the page does not carry its CSRF token, or lacks the CSP")
	}
	if code := post(s.csrf); code != 200 {
		t.Fatalf("POST with the page's CSRF token: %d", code)
	}
}

func TestEventsStreamStatus(t *testing.T) {
	_, base := startAdmin(t, "127.0.0.1:0", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && event == "status" {
			var m struct {
				Status Status `json:"status"`
			}
			if err := json.Unmarshal([]byte(d), &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Status.Services) != 1 || !m.Status.Services[0].Running {
				t.Fatalf("status event: %+v", m.Status)
			}
			return
		}
	}
	t.Fatalf("stream ended without a status event: %v", sc.Err())
}

func TestIsText(t *testing.T) {
	for in, want := range map[string]bool{"hello\n\tworld": true, "caf\u00e9": true, "\x00\x01": false, "ok\xff": false, "cut \xe2\x82": true, "": true} {
		if IsText([]byte(in)) != want {
			t.Errorf("IsText(%q) != %v", in, want)
		}
	}
}

// TestRefusesForeignHostWithoutToken: a page whose name was rebound to
// 127.0.0.1 sends its own Host; without a token only loopback names pass.
func TestRefusesForeignHostWithoutToken(t *testing.T) {
	_, base := startAdmin(t, "127.0.0.1:0", "")
	for host, want := range map[string]int{"evil.example:8080": 403, "localhost:8080": 200, "127.0.0.1": 200, "[::1]:80": 200} {
		req, _ := http.NewRequest("GET", base+"/api/session", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}
