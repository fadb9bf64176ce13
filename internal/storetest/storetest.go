// Package storetest gives tests real stores: a fresh SQLite file, and a
// fresh database on the PostgreSQL cluster scripts/deps/postgres.sh starts
// (its URL in OVERLAP_TEST_POSTGRES).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/overlap-go/overlap/store"
)

// SQLiteURL returns the URL of a new SQLite file in a test directory.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

var seq atomic.Int64

// PostgresURL returns the URL of a new, empty database, dropped when the
// test ends. Without OVERLAP_TEST_POSTGRES the test is skipped, except in CI
// (CI=true), where that is a failure: CI must run the PostgreSQL tests.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("OVERLAP_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("OVERLAP_TEST_POSTGRES is not set in CI: scripts/deps/postgres.sh should have started PostgreSQL")
		}
		t.Skip("no PostgreSQL: run ./scripts/test, or set OVERLAP_TEST_POSTGRES")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("overlap_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}

// URLs returns one store URL per kind, named for subtests.
func URLs(t testing.TB) map[string]func(testing.TB) string {
	return map[string]func(testing.TB) string{"sqlite": SQLiteURL, "postgres": PostgresURL}
}

// Flaky is a real store whose Append fails while Down is set: how tests
// take a database away and bring it back.
type Flaky struct {
	store.Store
	Down   atomic.Bool
	Failed chan struct{} // receives a value per failed Append, when not full
}

// NewFlaky wraps st; it starts up.
func NewFlaky(st store.Store) *Flaky {
	return &Flaky{Store: st, Failed: make(chan struct{}, 1)}
}

// Append fails while Down is set, and otherwise appends to the real store.
func (f *Flaky) Append(ctx context.Context, recs []*store.Record) error {
	if f.Down.Load() {
		select {
		case f.Failed <- struct{}{}:
		default:
		}
		return errors.New("database unreachable (storetest.Flaky is down)")
	}
	return f.Store.Append(ctx, recs)
}

// Open opens the store at url for the test and closes it when the test ends.
func Open(t testing.TB, url string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
