// Package admin is the admin web page of `overlap serve`: every service
// with its address, Start and Stop, its status and connections; traffic
// over the last minutes; the newest records, live. A JSON API under /api
// (docs/API.md) serves the page and `overlap status`; Prometheus metrics are
// at /metrics.
//
// It sits between the services and the command: it drives services through
// a small interface and reads records from the store.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overlap-go/overlap/store"
)

// Service is what the admin page drives. SetAddr is optional (a service
// without it cannot move); so are the Stats counters.
type Service interface {
	Start() error
	Stop(ctx context.Context) error
	Addr() net.Addr
}

// Stats are a service's live counters (zero when it keeps none).
type Stats struct {
	Conns    int64 `json:"open_conns"`
	BytesIn  int64 `json:"bytes_in"`
	Messages int64 `json:"messages"` // records received, for the recorder
	// Counted says the service counts bytes and messages (else only
	// connections).
	Counted bool `json:"-"`
}

// Entry is one service on the page.
type Entry struct {
	Name    string
	Service Service
	Addr    string       // the configured address, shown when stopped
	Stats   func() Stats // nil = no counters
	Details func() any   // extra status for the page and /metrics (RecorderDetails)
	Err     error        // why it failed to start, if it did
}

// RecorderDetails is the recorder's extra status.
type RecorderDetails struct {
	Framing       string        `json:"framing"`
	Store         string        `json:"store"`
	Received      int64         `json:"records_received"`
	Stored        int64         `json:"records_stored"`
	Pending       int64         `json:"pending_bytes"`
	StoreFailures int64         `json:"store_failures"`
	Commits       int64         `json:"commits"`
	LastCommit    time.Duration `json:"last_commit_ns"`
}

// Config describes the admin server.
type Config struct {
	Addr     string        // listen address (default 127.0.0.1:8080)
	Token    string        // required off loopback; generated if empty there
	Services []Entry       //
	Records  store.Store   // the recorder's store (nil = no records panel)
	Orders   OrderLister   // the orders service's orders (nil = no orders panel)
	Logger   *slog.Logger  //
	Poll     time.Duration // how often live records are looked for (default 250 ms)
	History  int           // seconds of traffic kept for the chart (default 600)
	Now      func() time.Time
}

// OrderLister lists the newest purchase orders (store.OrderLog).
type OrderLister interface {
	List(ctx context.Context, limit int) ([]store.Order, error)
}

// DefaultAddr is where the admin page listens by default: loopback only.
const DefaultAddr = "127.0.0.1:8080"

//go:embed static
var static embed.FS

// Server is the admin HTTP server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	http *http.Server
	csrf string
	page *template.Template

	mu       sync.Mutex
	services map[string]*entryState
	order    []string

	hub *hub
}

type entryState struct {
	Entry
	lastErr string
	busy    bool // a start or stop is under way (without s.mu held)
}

// New returns an admin server; Start listens.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.History <= 0 {
		cfg.History = 600
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	page, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("service", "admin"), csrf: randomToken(), page: page,
		services: map[string]*entryState{}}
	for _, e := range cfg.Services {
		st := &entryState{Entry: e}
		if e.Err != nil {
			st.lastErr = e.Err.Error()
		}
		s.services[e.Name] = st
		s.order = append(s.order, e.Name)
	}
	s.hub = newHub(s)
	return s, nil
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start listens. Off loopback a token is required: the configured one, or a
// new one, which Token returns so the caller can print it.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if !isLoopback(ln.Addr()) && s.cfg.Token == "" {
		s.cfg.Token = randomToken()
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln)
	go s.hub.run()
	s.log.Info("listening", "addr", ln.Addr().String(), "token_required", s.cfg.Token != "")
	return nil
}

// Token is the token clients must present, or "" when none is needed.
func (s *Server) Token() string { return s.cfg.Token }

// Addr is the listening address.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stop closes the server and every live stream.
func (s *Server) Stop(ctx context.Context) error {
	if s.http == nil {
		return nil
	}
	s.hub.stop()
	return s.http.Shutdown(ctx)
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /api/status", s.apiStatus)
	mux.HandleFunc("GET /api/session", s.apiSession)
	mux.HandleFunc("POST /api/services/{name}/start", s.apiStart)
	mux.HandleFunc("POST /api/services/{name}/stop", s.apiStop)
	mux.HandleFunc("GET /api/history", s.apiHistory)
	mux.HandleFunc("GET /api/records", s.apiRecords)
	mux.HandleFunc("GET /api/records/{id}", s.apiRecord)
	mux.HandleFunc("GET /api/records/{id}/body", s.apiRecordBody)
	mux.HandleFunc("GET /api/events", s.hub.serve)
	mux.HandleFunc("GET /api/orders", s.apiOrders)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API: "+r.Method+" "+r.URL.Path)
	})
	return s.guard(mux)
}

// guard enforces the token (off loopback) and CSRF protection on changes,
// and sets headers that keep the page from being framed or sniffed.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		h.Set("Referrer-Policy", "no-referrer")
		if s.cfg.Token == "" && !loopbackHost(r.Host) {
			// Without a token only loopback can reach us; a page whose name
			// was rebound to 127.0.0.1 still sends its own name here.
			apiError(w, http.StatusForbidden, "this admin page answers only to a loopback host name or address (got Host "+r.Host+")")
			return
		}
		if tok := s.cfg.Token; tok != "" {
			if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet && r.URL.Path == "/" {
				if !equal(q, tok) {
					apiError(w, http.StatusUnauthorized, "wrong token")
					return
				}
				http.SetCookie(w, &http.Cookie{Name: "overlap_token", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
			if !s.authorized(r) {
				apiError(w, http.StatusUnauthorized, "a token is required: open /?token=TOKEN once, or send Authorization: Bearer TOKEN")
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// A form on another site cannot set this header, and cannot
			// read the page that holds its value.
			if !equal(r.Header.Get("X-CSRF-Token"), s.csrf) {
				apiError(w, http.StatusForbidden, "missing or wrong X-CSRF-Token header (GET /api/session gives it)")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine's loopback:
// localhost or a loopback address, with any port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) authorized(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); len(a) > 7 && a[:7] == "Bearer " && equal(a[7:], s.cfg.Token) {
		return true
	}
	c, err := r.Cookie("overlap_token")
	return err == nil && equal(c.Value, s.cfg.Token)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// apiError writes {"error": msg} with the status code.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.page.Execute(w, map[string]string{"CSRF": s.csrf})
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"csrf": s.csrf})
}

// HostInfo is the host's name and addresses, as the seed's form shows them.
type HostInfo struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
}

// Host returns this host's name and interface addresses.
func Host() HostInfo {
	h := HostInfo{Name: "unknown"}
	if n, err := os.Hostname(); err == nil {
		h.Name = n
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				h.Addresses = append(h.Addresses, n.IP.String())
			}
		}
	}
	return h
}

// ServiceStatus is one service in /api/status.
type ServiceStatus struct {
	Name     string `json:"name"`
	Running  bool   `json:"running"`
	Addr     string `json:"addr"`            // listening, or configured when stopped
	Error    string `json:"error,omitempty"` // why the last start failed
	CanMove  bool   `json:"can_change_addr"`
	Stats    Stats  `json:"stats"`
	Status   string `json:"status"` // Running, Stopped, or the error
	Extended any    `json:"details,omitempty"`
	counted  bool   // Stats are kept (else they are zeros)
}

// Status is GET /api/status.
type Status struct {
	Host     HostInfo        `json:"host"`
	Services []ServiceStatus `json:"services"`
	Time     time.Time       `json:"time"`
}

func (s *Server) status() Status {
	st := Status{Host: Host(), Time: s.cfg.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.order {
		st.Services = append(st.Services, s.serviceStatusLocked(s.services[name]))
	}
	return st
}

type addrSetter interface{ SetAddr(string) }

func (s *Server) serviceStatusLocked(e *entryState) ServiceStatus {
	ss := ServiceStatus{Name: e.Name, Addr: e.Addr, Error: e.lastErr}
	if a := e.Service.Addr(); a != nil {
		ss.Running, ss.Addr = true, a.String()
	}
	_, ss.CanMove = e.Service.(addrSetter)
	if e.Stats != nil {
		ss.Stats, ss.counted = e.Stats(), true
	}
	if e.Details != nil {
		ss.Extended = e.Details()
	}
	switch {
	case ss.Running:
		ss.Status = "Running"
	case ss.Error != "":
		ss.Status = ss.Error
	default:
		ss.Status = "Stopped"
	}
	return ss
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.status())
}

// apiStart starts a service, on a new address if the body says
// {"addr": "HOST:PORT"}.
func (s *Server) apiStart(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Addr string `json:"addr"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, "body: want {\"addr\": \"HOST:PORT\"}: "+err.Error())
			return
		}
	}
	if req.Addr != "" {
		if _, _, err := net.SplitHostPort(req.Addr); err != nil {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("address %q: %v", req.Addr, err))
			return
		}
	}
	s.change(w, r, func(e *entryState) (int, error) {
		if e.Service.Addr() != nil {
			return http.StatusConflict, errors.New(e.Name + " is already running")
		}
		if req.Addr != "" && req.Addr != e.Addr {
			mv, ok := e.Service.(addrSetter)
			if !ok {
				return http.StatusBadRequest, errors.New(e.Name + " cannot change its address while overlap runs")
			}
			mv.SetAddr(req.Addr)
			s.mu.Lock()
			e.Addr = req.Addr
			s.mu.Unlock()
		}
		if err := e.Service.Start(); err != nil {
			s.log.Warn("start failed", "name", e.Name, "err", err)
			return http.StatusConflict, err
		}
		s.log.Info("started from the admin page", "name", e.Name, "addr", e.Service.Addr().String())
		return 0, nil
	})
}

func (s *Server) apiStop(w http.ResponseWriter, r *http.Request) {
	s.change(w, r, func(e *entryState) (int, error) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := e.Service.Stop(ctx); err != nil {
			return http.StatusInternalServerError, err
		}
		s.log.Info("stopped from the admin page", "name", e.Name)
		return 0, nil
	})
}

// change runs a start or stop of one service without holding s.mu (a
// recorder's stop can take as long as its store needs to commit), one at a
// time per service, and answers with the service's status or the error.
func (s *Server) change(w http.ResponseWriter, r *http.Request, do func(e *entryState) (int, error)) {
	s.mu.Lock()
	e := s.services[r.PathValue("name")]
	switch {
	case e == nil:
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, fmt.Sprintf("no service %q", r.PathValue("name")))
		return
	case e.busy:
		s.mu.Unlock()
		apiError(w, http.StatusConflict, e.Name+" is already starting or stopping")
		return
	}
	e.busy = true
	s.mu.Unlock()
	code, err := do(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	e.busy = false
	if err != nil {
		if code == http.StatusConflict && e.Service.Addr() == nil {
			e.lastErr = err.Error()
		}
		apiError(w, code, err.Error())
		return
	}
	e.lastErr = ""
	writeJSON(w, s.serviceStatusLocked(e))
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.hub.historySnapshot())
}

// RecordJSON is a record in the API: body as base64 (Body), plus a preview
// and whether it is text.
type RecordJSON struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	ClientIP   string    `json:"client_ip"`
	ClientPort int       `json:"client_port"`
	ServerAddr string    `json:"server_addr"`
	Size       int64     `json:"size"`
	Ended      store.End `json:"ended"`
	Body       []byte    `json:"body_base64,omitempty"`
	Preview    string    `json:"preview"`
	Text       bool      `json:"text"`
}

// previewBytes is how much of a body the live table shows.
const previewBytes = 64

func toJSON(r *store.Record, withBody bool) RecordJSON {
	rj := RecordJSON{ID: r.ID, ReceivedAt: r.ReceivedAt, ClientIP: r.ClientIP, ClientPort: r.ClientPort,
		ServerAddr: r.ServerAddr, Size: r.Size, Ended: r.End}
	p := r.Body[:min(len(r.Body), previewBytes)]
	rj.Text = IsText(p)
	if rj.Text {
		rj.Preview = string(p)
	} else {
		rj.Preview = "hex:" + hex.EncodeToString(p[:min(len(p), 16)])
	}
	if withBody {
		rj.Body = r.Body
		rj.Text = IsText(r.Body)
	}
	return rj
}

func (s *Server) needStore(w http.ResponseWriter) bool {
	if s.cfg.Records == nil {
		apiError(w, http.StatusNotFound, "the recorder is not running in this overlap")
		return false
	}
	return true
}

// apiRecords lists records newest first: ?limit=N (default 50, at most
// 1000), ?after=ID (only newer, oldest first).
func (s *Server) apiRecords(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	f := store.Filter{Limit: 50, BodyLimit: previewBytes}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			apiError(w, http.StatusBadRequest, "limit: want 1 to 1000")
			return
		}
		f.Limit = n
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "after: want a record id")
			return
		}
		f.AfterID, f.Ascending = n, true
	}
	if v := q.Get("ip"); v != "" {
		f.ClientIP = v
	}
	rs, err := s.cfg.Records.Query(r.Context(), f)
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	out := make([]RecordJSON, 0, len(rs))
	for i := range rs {
		out = append(out, toJSON(&rs[i], false))
	}
	writeJSON(w, out)
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) *store.Record {
	if !s.needStore(w) {
		return nil
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "not a record id: "+r.PathValue("id"))
		return nil
	}
	rec, err := s.cfg.Records.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		apiError(w, http.StatusNotFound, err.Error())
		return nil
	}
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, err.Error())
		return nil
	}
	return rec
}

func (s *Server) apiRecord(w http.ResponseWriter, r *http.Request) {
	if rec := s.getRecord(w, r); rec != nil {
		writeJSON(w, toJSON(rec, true))
	}
}

// apiRecordBody downloads the exact body. It is never served as something
// a browser would render.
func (s *Server) apiRecordBody(w http.ResponseWriter, r *http.Request) {
	rec := s.getRecord(w, r)
	if rec == nil {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"record-%d.bin\"", rec.ID))
	w.Header().Set("Content-Length", strconv.Itoa(len(rec.Body)))
	w.Write(rec.Body)
}

// apiOrders lists the newest purchase orders the net.tcp service received:
// ?limit=N (default 50, at most 1000).
func (s *Server) apiOrders(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Orders == nil {
		apiError(w, http.StatusNotFound, "the orders service is not running with a store in this overlap")
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			apiError(w, http.StatusBadRequest, "limit: want 1 to 1000")
			return
		}
		limit = n
	}
	list, err := s.cfg.Orders.List(r.Context(), limit)
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if list == nil {
		list = []store.Order{}
	}
	writeJSON(w, list)
}

// serviceNames returns the services in page order.
func (s *Server) serviceNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}
