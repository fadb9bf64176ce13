// Package store keeps records: what clients sent, with when, from where and
// how each connection ended. One interface, two real implementations:
// SQLite (embedded, the default) and PostgreSQL (for several overlap
// instances writing to one database). Open picks one from a URL.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// End says how a record ended.
type End string

// The ways a record ends. Framed is a complete line or length-prefixed
// frame; the others say how the client's connection ended.
const (
	Framed   End = "framed"   // a complete line or frame
	Closed   End = "closed"   // the client closed the connection
	Reset    End = "reset"    // the connection was reset
	Idle     End = "idle"     // the client was silent past the idle timeout
	Limit    End = "limit"    // the body passed the size limit and was cut
	Shutdown End = "shutdown" // the server stopped while the client was connected
)

// Record is one stored body.
type Record struct {
	ID         int64     // assigned by the store
	ReceivedAt time.Time // UTC, microsecond precision
	ClientIP   string
	ClientPort int
	ServerAddr string // the listening address that received it
	Size       int64  // length of the stored body
	Body       []byte // exact bytes (cut to Filter.BodyLimit by queries that ask)
	End        End
}

// Filter selects records. The zero value selects every record, newest first.
type Filter struct {
	Since, Until time.Time // received in [Since, Until); zero = unbounded
	ClientIP     string    // exact match; "" = any
	MinSize      int64     // size >= MinSize
	MaxSize      int64     // size <= MaxSize; 0 = no bound
	AfterID      int64     // id > AfterID
	Ascending    bool      // oldest first (default newest first)
	Limit        int       // at most this many; 0 = no limit
	BodyLimit    int       // keep only this many leading body bytes; 0 = whole, <0 = none
}

// Store keeps records. Implementations are safe for concurrent use.
type Store interface {
	// Append stores recs in one transaction: when it returns nil, every
	// record is committed and durable; on error none is.
	Append(ctx context.Context, recs []*Record) error
	// Query returns the records f selects.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// Get returns one record with its whole body, or ErrNotFound.
	Get(ctx context.Context, id int64) (*Record, error)
	// Count returns how many records f selects (Limit and AfterID apply).
	Count(ctx context.Context, f Filter) (int64, error)
	// Close releases the store.
	Close() error
	// String names the store for logs, without credentials.
	String() string
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("store: no such record")

// DefaultURL is the store `overlap serve` uses when none is given.
const DefaultURL = "sqlite:overlap.db"

// Open opens (creating and migrating as needed) the store a URL names:
// "sqlite:PATH" (or a path ending in .db) for SQLite, "postgres://..." or
// "postgresql://..." for PostgreSQL.
func Open(ctx context.Context, url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return OpenPostgres(ctx, url)
	case strings.HasSuffix(url, ".db") && !strings.Contains(url, "://"):
		return OpenSQLite(ctx, url)
	}
	return nil, fmt.Errorf("store: %q is not a store URL (want sqlite:PATH or postgres://...)", url)
}

// micros truncates t to UTC microseconds, the precision both stores keep.
func micros(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
