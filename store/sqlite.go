// The SQLite store: one file, WAL, batched transactions, migrations by
// PRAGMA user_version.
//
// Driver: modernc.org/sqlite, a pure-Go translation of SQLite, so that
// `go install` needs no C compiler and cross-compiles; docs/BENCHMARKS.md
// gives its insert rate.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (batcher.go names its errors)
)

// sqliteMigrations are applied in order; user_version counts those done.
var sqliteMigrations = []string{
	`CREATE TABLE records (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		received_at INTEGER NOT NULL, -- Unix microseconds, UTC
		client_ip   TEXT    NOT NULL,
		client_port INTEGER NOT NULL,
		server_addr TEXT    NOT NULL,
		size        INTEGER NOT NULL,
		body        BLOB    NOT NULL,
		ended       TEXT    NOT NULL
	);
	CREATE INDEX records_received_at ON records (received_at);
	CREATE INDEX records_client_ip ON records (client_ip);`,
	// 2: purchase orders of the net.tcp service; ids are handed out in
	// blocks from order_ids, so they never collide between writers.
	`CREATE TABLE orders (
		id           INTEGER PRIMARY KEY,
		received_at  INTEGER NOT NULL, -- Unix microseconds, UTC
		quantity     INTEGER NOT NULL,
		product_name TEXT    NOT NULL,
		status       TEXT    NOT NULL
	);
	CREATE TABLE order_ids (next INTEGER NOT NULL);
	INSERT INTO order_ids (next) VALUES (1);`,
}

var sqliteDialect = dialect{
	placeholder: func(int) string { return "?" },
	timeArg:     func(t time.Time) any { return t.UTC().UnixMicro() },
	prefix:      func(n int) string { return fmt.Sprintf("substr(body, 1, %d)", n) },
}

// SQLite is the embedded store.
type SQLite struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // readers (WAL lets them run beside the writer)
}

// OpenSQLite opens or creates the database file at path and migrates it.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("store: sqlite: empty path")
	}
	// synchronous=NORMAL in WAL mode: a committed transaction survives the
	// process being killed (it is in the OS's page cache and the WAL); only
	// a power cut can lose the last few, which FULL would prevent at the
	// price of an fsync per commit.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=page_size(16384)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_pragma=busy_timeout(10000)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &SQLite{path: path, w: w, r: r}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(sqliteMigrations) {
		return fmt.Errorf("schema version %d is newer than this overlap knows (%d)", v, len(sqliteMigrations))
	}
	for ; v < len(sqliteMigrations); v++ {
		if _, err := tx.ExecContext(ctx, sqliteMigrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		return err
	}
	return tx.Commit()
}

// sqliteRowsPerInsert is how many records one INSERT statement carries:
// fewer statements per batch, as SQLite's per-statement cost dominates
// small rows. 8 columns x 64 stays far below SQLite's variable limit.
const sqliteRowsPerInsert = 64

// Append stores recs in one transaction.
func (s *SQLite) Append(ctx context.Context, recs []*Record) error {
	return s.insertRows(ctx, "INSERT INTO records (received_at, client_ip, client_port, server_addr, size, body, ended) VALUES ", 7, len(recs),
		func(i int, args []any) []any {
			r := recs[i]
			body := r.Body
			if body == nil {
				body = []byte{} // NOT NULL: an empty body is an empty blob
			}
			return append(args, r.ReceivedAt.UTC().UnixMicro(), r.ClientIP, r.ClientPort, r.ServerAddr, int64(len(r.Body)), body, string(r.End))
		})
}

// insertRows inserts n rows of cols columns in one transaction, with
// multi-row INSERTs of sqliteRowsPerInsert rows; row appends the i-th row's
// values to args.
func (s *SQLite) insertRows(ctx context.Context, head string, cols, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, insertSQL(head, cols, sqliteRowsPerInsert))
	if err != nil {
		return fmt.Errorf("store: sqlite: prepare: %w", err)
	}
	defer full.Close()
	args := make([]any, 0, cols*sqliteRowsPerInsert)
	for done := 0; done < n; {
		k := min(n-done, sqliteRowsPerInsert)
		args = args[:0]
		for i := done; i < done+k; i++ {
			args = row(i, args)
		}
		if k == sqliteRowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(head, cols, k), args...)
		}
		if err != nil {
			return fmt.Errorf("store: sqlite: insert: %w", err)
		}
		done += k
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: sqlite: commit: %w", err)
	}
	return nil
}

// insertSQL returns head followed by n rows of cols ? placeholders.
func insertSQL(head string, cols, n int) string {
	one := "(" + strings.Repeat("?,", cols-1) + "?)"
	b := []byte(head)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, one...)
	}
	return string(b)
}

// Query returns the records f selects.
func (s *SQLite) Query(ctx context.Context, f Filter) ([]Record, error) {
	q, args := sqliteDialect.selectSQL(f)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: query: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var at int64
		var ended string
		if err := rows.Scan(&r.ID, &at, &r.ClientIP, &r.ClientPort, &r.ServerAddr, &r.Size, &r.Body, &ended); err != nil {
			return nil, fmt.Errorf("store: sqlite: scan: %w", err)
		}
		r.ReceivedAt, r.End = time.UnixMicro(at).UTC(), End(ended)
		if r.Body == nil {
			r.Body = []byte{}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sqlite: query: %w", err)
	}
	return out, nil
}

// Get returns one record.
func (s *SQLite) Get(ctx context.Context, id int64) (*Record, error) {
	return getOne(ctx, s, id)
}

// Count returns how many records f selects.
func (s *SQLite) Count(ctx context.Context, f Filter) (int64, error) {
	q, args := sqliteDialect.countSQL(f)
	var n int64
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: sqlite: count: %w", err)
	}
	return n, nil
}

// Close closes the database.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// String names the store.
func (s *SQLite) String() string { return "sqlite:" + s.path }

// getOne is Get on any store, through Query.
func getOne(ctx context.Context, s Store, id int64) (*Record, error) {
	rs, err := s.Query(ctx, Filter{AfterID: id - 1, Ascending: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || rs[0].ID != id {
		return nil, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return &rs[0], nil
}
