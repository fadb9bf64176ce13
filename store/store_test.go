package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overlap-go/overlap/internal/storetest"
	"github.com/overlap-go/overlap/store"
)

// eachStore runs f against a fresh SQLite file and a fresh PostgreSQL
// database.
func eachStore(t *testing.T, f func(t *testing.T, url string)) {
	for name, mk := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) { f(t, mk(t)) })
	}
}

func rec(ip string, port int, body string, at time.Time) *store.Record {
	return &store.Record{ReceivedAt: at, ClientIP: ip, ClientPort: port, ServerAddr: "127.0.0.1:4096", Body: []byte(body), End: store.Closed}
}

func TestAppendQueryGetCount(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st := storetest.Open(t, url)
		t0 := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		recs := []*store.Record{
			rec("10.0.0.1", 1000, "first", t0),
			rec("10.0.0.2", 2000, "", t0.Add(time.Second)),
			rec("::1", 3000, string(all), t0.Add(2*time.Second)),
			rec("10.0.0.1", 1001, "fourth, longer body", t0.Add(3*time.Second)),
		}
		recs[1].Body = nil // an empty body may come as nil
		recs[2].End = store.Reset
		if err := st.Append(ctx, recs); err != nil {
			t.Fatal(err)
		}
		rs, err := st.Query(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 4 || rs[0].ID <= rs[3].ID {
			t.Fatalf("want 4 records newest first, got %+v", rs)
		}
		third := rs[1]
		if !bytes.Equal(third.Body, all) || third.Size != 256 || third.ClientIP != "::1" || third.ClientPort != 3000 ||
			third.End != store.Reset || !third.ReceivedAt.Equal(t0.Add(2*time.Second).Truncate(time.Microsecond)) ||
			third.ServerAddr != "127.0.0.1:4096" {
			t.Fatalf("record not kept exactly: %+v", third)
		}
		if rs[2].Body == nil || len(rs[2].Body) != 0 || rs[2].Size != 0 {
			t.Fatalf("empty body: %+v", rs[2])
		}
		count := func(f store.Filter) int64 {
			n, err := st.Count(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			q, err := st.Query(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(q)) != n {
				t.Fatalf("Count %d but Query returned %d for %+v", n, len(q), f)
			}
			return n
		}
		for _, c := range []struct {
			f    store.Filter
			want int64
		}{
			{store.Filter{ClientIP: "10.0.0.1"}, 2},
			{store.Filter{Since: t0.Add(time.Second)}, 3},
			{store.Filter{Until: t0.Add(time.Second)}, 1},
			{store.Filter{MinSize: 6}, 2},
			{store.Filter{MaxSize: 5}, 2},
			{store.Filter{AfterID: rs[1].ID}, 1},
			{store.Filter{Limit: 3}, 3},
		} {
			if got := count(c.f); got != c.want {
				t.Errorf("%+v: got %d, want %d", c.f, got, c.want)
			}
		}
		cut, err := st.Query(ctx, store.Filter{BodyLimit: 3, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if string(cut[0].Body) != "fir" || cut[0].Size != 5 || cut[0].ID != rs[3].ID {
			t.Fatalf("BodyLimit/Ascending: %+v", cut[0])
		}
		g, err := st.Get(ctx, rs[0].ID)
		if err != nil || string(g.Body) != "fourth, longer body" {
			t.Fatalf("Get: %+v %v", g, err)
		}
		if _, err := st.Get(ctx, rs[0].ID+100); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of an unknown id: %v", err)
		}
	})
}

// TestReopenKeepsRecordsAndSchema: a second open migrates nothing and sees
// everything.
func TestReopenKeepsRecordsAndSchema(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, []*store.Record{rec("1.2.3.4", 1, "kept", time.Now())}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		st2 := storetest.Open(t, url)
		n, err := st2.Count(ctx, store.Filter{})
		if err != nil || n != 1 {
			t.Fatalf("after reopen: %d records, %v", n, err)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "overlap", ""} {
		if _, err := store.Open(context.Background(), u); err == nil {
			t.Errorf("%q: opened", u)
		}
	}
}

func TestPostgresBadURLSaysWhereWithoutPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := store.Open(ctx, "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2")
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("secret")) {
		t.Fatalf("want an error without the password, got %v", err)
	}
}

// TestBatcherBackpressureAndRetry: while the store is down the batcher keeps
// every record, reports no room past its budget, and commits all of it once
// the store is back; WhenRoom callbacks run then.
func TestBatcherBackpressureAndRetry(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		fl := storetest.NewFlaky(storetest.Open(t, url))
		fl.Down.Store(true)
		var committed atomic.Int64
		b := store.NewBatcher(fl, store.BatchConfig{Budget: 4096, MaxRecords: 7,
			OnCommit: func(n int) { committed.Add(int64(n)) }})
		const n = 100
		full := -1
		for i := range n {
			room, err := b.Add(rec("10.1.1.1", i, fmt.Sprintf("body %03d", i), time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			if !room && full < 0 {
				full = i
			}
		}
		if full < 0 {
			t.Fatal("budget of 4096 bytes never reported full for 100 records")
		}
		resumed := make(chan struct{})
		b.WhenRoom(func() { close(resumed) })
		// The store is down: the batcher must be retrying, and nothing is stored.
		<-fl.Failed
		<-fl.Failed
		select {
		case <-resumed:
			t.Fatal("room reported while nothing could commit")
		default:
		}
		fl.Down.Store(false)
		<-resumed
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := fl.Count(ctx, store.Filter{})
		if err != nil || got != n || committed.Load() != n {
			t.Fatalf("stored %d (committed callbacks %d), want %d: %v", got, committed.Load(), n, err)
		}
		rs, _ := fl.Query(ctx, store.Filter{Ascending: true})
		for i, r := range rs {
			if want := fmt.Sprintf("body %03d", i); string(r.Body) != want {
				t.Fatalf("record %d is %q, want %q: order or content lost", i, r.Body, want)
			}
		}
		if s := b.Stats(); s.Failures < 2 || s.Records != n || s.Pending != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestBatcherCloseGivesUpWhenStoreStaysDown: Close bounded by a context
// says how many records were not stored.
func TestBatcherCloseGivesUpWhenStoreStaysDown(t *testing.T) {
	fl := storetest.NewFlaky(storetest.Open(t, storetest.SQLiteURL(t)))
	fl.Down.Store(true)
	b := store.NewBatcher(fl, store.BatchConfig{})
	b.Add(rec("10.1.1.1", 1, "x", time.Now()))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := b.Close(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with the store down: %v", err)
	}
	if _, err := b.Add(rec("10.1.1.1", 1, "y", time.Now())); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
}

// TestConcurrentAppendsFromBatchers: two batchers (two servers) on one
// database: every record stored once.
func TestConcurrentAppendsFromBatchers(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for w := range 2 {
			st := storetest.Open(t, url)
			b := store.NewBatcher(st, store.BatchConfig{MaxRecords: 50})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					b.Add(rec("10.0.0.9", w, fmt.Sprintf("%d-%d", w, i), time.Now()))
				}
				if err := b.Close(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		st := storetest.Open(t, url)
		rs, err := st.Query(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rs {
			if seen[string(r.Body)] {
				t.Fatalf("duplicate %q", r.Body)
			}
			seen[string(r.Body)] = true
		}
		if len(seen) != 1000 {
			t.Fatalf("stored %d distinct records, want 1000", len(seen))
		}
	})
}

// TestOrderLog: ids are known at once and unique across two logs on one
// database; Get finds an order just added; List is newest first; a reopen
// keeps them.
func TestOrderLog(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		a, b := storetest.Open(t, url).(store.Orders), storetest.Open(t, url).(store.Orders)
		la, lb := store.NewOrderLog(a, store.BatchConfig{}), store.NewOrderLog(b, store.BatchConfig{})
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, l := range []*store.OrderLog{la, lb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 1500 {
					id, err := l.Add(ctx, &store.Order{Quantity: int32(i), ProductName: "Widget", Status: "received"})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[id] {
						t.Errorf("id %d handed out twice", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		id, err := la.Add(ctx, &store.Order{Quantity: 7, ProductName: "Pencil <b>", Status: "accepted"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := la.Get(ctx, id)
		if err != nil || o.Quantity != 7 || o.ProductName != "Pencil <b>" || o.Status != "accepted" || o.ReceivedAt.IsZero() {
			t.Fatalf("Get(%d) right after Add: %+v %v", id, o, err)
		}
		if _, err := la.Get(ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of an unknown id: %v", err)
		}
		for _, l := range []*store.OrderLog{la, lb} {
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
		}
		list, err := storetest.Open(t, url).(store.Orders).ListOrders(ctx, 5000)
		if err != nil || len(list) != 3001 {
			t.Fatalf("ListOrders: %d orders, %v", len(list), err)
		}
		for i := 1; i < len(list); i++ {
			if list[i].ID >= list[i-1].ID {
				t.Fatal("ListOrders is not newest first")
			}
		}
	})
}

// TestPostgresRefusesNULWithoutWedging: PostgreSQL text cannot hold a NUL;
// such a record is dropped (and counted), the rest is stored.
func TestPostgresRefusesNULWithoutWedging(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.PostgresURL(t))
	b := store.NewBatcher(st, store.BatchConfig{})
	b.Add(rec("10.0.0.1", 1, "good", time.Now()))
	b.Add(rec("10.0.0.1\x00", 2, "bad address", time.Now()))
	b.Add(rec("10.0.0.1", 3, "good too", time.Now()))
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.Flush(fctx); err != nil {
		t.Fatalf("a refused record wedged the batcher: %v", err)
	}
	if n, err := st.Count(ctx, store.Filter{}); err != nil || n != 2 || b.Stats().Rejected != 1 {
		t.Fatalf("stored %d, rejected %d, %v", n, b.Stats().Rejected, err)
	}
	b.Close(ctx)
}
