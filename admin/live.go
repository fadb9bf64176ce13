// Live data: a once-a-second sample of every service's counters (kept for
// the chart), new records found by polling the store, and the server-sent
// event streams that carry both to open pages.

package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/overlap-go/overlap/store"
)

// Sample is one second of traffic.
type Sample struct {
	Time     time.Time        `json:"t"`
	Conns    int64            `json:"conns"`    // open connections, all services
	BytesPS  int64            `json:"bytes_ps"` // bytes received per second, all services
	MsgsPS   int64            `json:"msgs_ps"`  // messages (records) per second
	Services map[string]Stats `json:"services"` // the raw counters
}

// maxLiveRecords caps the records one event carries: at 1,000 records a
// second the page gets the newest, not all of them (it can page back
// through /api/records).
const maxLiveRecords = 100

type hub struct {
	s *Server

	mu      sync.Mutex
	subs    map[chan []byte]struct{}
	history []Sample
	lastID  int64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newHub(s *Server) *hub {
	h := &hub{s: s, subs: map[chan []byte]struct{}{}, done: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

func (h *hub) stop() {
	h.cancel()
	<-h.done
}

func (h *hub) run() {
	defer close(h.done)
	if st := h.s.cfg.Records; st != nil {
		if rs, err := st.Query(h.ctx, store.Filter{Limit: 1, BodyLimit: -1}); err == nil && len(rs) > 0 {
			h.lastID = rs[0].ID
		}
	}
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	poll := time.NewTicker(h.s.cfg.Poll)
	defer poll.Stop()
	var prev map[string]Stats
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-sec.C:
			prev = h.sample(prev)
		case <-poll.C:
			h.pollRecords()
		}
	}
}

// sample records one second of counters and sends the status to pages.
func (h *hub) sample(prev map[string]Stats) map[string]Stats {
	st := h.s.status()
	cur := map[string]Stats{}
	smp := Sample{Time: st.Time, Services: cur}
	for _, ss := range st.Services {
		cur[ss.Name] = ss.Stats
		smp.Conns += ss.Stats.Conns
		if p, ok := prev[ss.Name]; ok {
			smp.BytesPS += max(ss.Stats.BytesIn-p.BytesIn, 0)
			smp.MsgsPS += max(ss.Stats.Messages-p.Messages, 0)
		}
	}
	h.mu.Lock()
	h.history = append(h.history, smp)
	if over := len(h.history) - h.s.cfg.History; over > 0 {
		h.history = append(h.history[:0], h.history[over:]...)
	}
	h.mu.Unlock()
	h.publish("status", map[string]any{"status": st, "sample": smp})
	return cur
}

func (h *hub) pollRecords() {
	st := h.s.cfg.Records
	if st == nil || !h.hasSubs() {
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	rs, err := st.Query(ctx, store.Filter{AfterID: h.lastID, BodyLimit: previewBytes, Limit: maxLiveRecords})
	if err != nil || len(rs) == 0 {
		return
	}
	// Newest first: if more arrived than one event carries, the page gets
	// the newest ones and the count of those it skipped.
	skipped, _ := st.Count(ctx, store.Filter{AfterID: h.lastID})
	skipped -= int64(len(rs))
	h.lastID = rs[0].ID
	out := make([]RecordJSON, len(rs))
	for i := range rs {
		out[len(rs)-1-i] = toJSON(&rs[i], false)
	}
	h.publish("records", map[string]any{"records": out, "skipped": max(skipped, 0)})
}

func (h *hub) hasSubs() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

func (h *hub) historySnapshot() []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Sample{}, h.history...)
}

// publish sends one event to every page; a page too slow to take it misses
// it (its channel is full) rather than holding the others back.
func (h *hub) publish(event string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	msg := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", event, data))
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- msg:
		default:
		}
	}
}

// serve is GET /api/events: a server-sent event stream of "status" (once a
// second) and "records" (new records) events.
func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch := make(chan []byte, 16)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}()
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		case msg := <-ch:
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// IsText reports whether b reads as text: valid UTF-8 (a rune cut at the
// end allowed) of printable characters and whitespace.
func IsText(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
		b = b[n:]
	}
	return true
}
