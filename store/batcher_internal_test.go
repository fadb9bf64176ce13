package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBatcherIsolatesRowsTheStoreRefuses: a row the store refuses for good
// (here a duplicate key) is found by splitting the batch, dropped and
// counted; every other row is committed and nothing waits behind it.
func TestBatcherIsolatesRowsTheStoreRefuses(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := newBatcher(st.String(), st.AppendOrders, func(*Order) int { return 0 }, BatchConfig{})
	for _, id := range []int64{1, 2, 3, 2, 4, 5, 6} {
		b.Add(&Order{ID: id, ReceivedAt: time.Now(), Quantity: int32(id), ProductName: "p", Status: "received"})
	}
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.Flush(fctx); err != nil {
		t.Fatalf("a refused row wedged the batcher: %v", err)
	}
	if s := b.Stats(); s.Rejected != 1 || s.Records != 6 {
		t.Fatalf("stats %+v, want 6 stored and 1 rejected", s)
	}
	list, err := st.ListOrders(ctx, 10)
	if err != nil || len(list) != 6 {
		t.Fatalf("stored %d orders, %v", len(list), err)
	}
	b.Close(ctx)
}

func TestRedactHidesPasswords(t *testing.T) {
	for _, u := range []string{"postgres://u:s3cret@h/db", "postgres://u@h/db?password=s3cret&sslmode=disable"} {
		if r := redact(u); strings.Contains(r, "s3cret") {
			t.Errorf("redact(%q) = %q", u, r)
		}
	}
}
