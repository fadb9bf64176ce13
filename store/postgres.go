// The PostgreSQL store, through pgx: batches go in with COPY inside one
// transaction, so several overlap instances behind a load balancer can write
// to one database; ids come from one sequence, so they never collide.

package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMigrations are applied in order under an advisory lock, so two
// instances starting together migrate once.
var postgresMigrations = []string{
	`CREATE TABLE records (
		id          bigserial   PRIMARY KEY,
		received_at timestamptz NOT NULL,
		client_ip   text        NOT NULL,
		client_port integer     NOT NULL,
		server_addr text        NOT NULL,
		size        bigint      NOT NULL,
		body        bytea       NOT NULL,
		ended       text        NOT NULL
	);
	CREATE INDEX records_received_at ON records (received_at);
	CREATE INDEX records_client_ip ON records (client_ip);`,
	`CREATE TABLE orders (
		id           bigint      PRIMARY KEY,
		received_at  timestamptz NOT NULL,
		quantity     integer     NOT NULL,
		product_name text        NOT NULL,
		status       text        NOT NULL
	);
	CREATE TABLE order_ids (next bigint NOT NULL);
	INSERT INTO order_ids (next) VALUES (1);`,
}

// migrationLock is the advisory lock key taken while migrating ("overlap!").
const migrationLock = 0x6f7665726c617021

var postgresDialect = dialect{
	placeholder: func(n int) string { return fmt.Sprintf("$%d", n) },
	timeArg:     func(t time.Time) any { return t.UTC() },
	prefix:      func(n int) string { return fmt.Sprintf("substring(body from 1 for %d)", n) },
}

// Postgres is the PostgreSQL store.
type Postgres struct {
	pool *pgxpool.Pool
	name string
}

// OpenPostgres connects to the database a postgres:// URL names and
// migrates it.
func OpenPostgres(ctx context.Context, rawURL string) (*Postgres, error) {
	name := redact(rawURL)
	pool, err := pgxpool.New(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	s := &Postgres{pool: pool, name: name}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	return s, nil
}

func (s *Postgres) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS overlap_schema (version integer NOT NULL)"); err != nil {
		return err
	}
	var v int
	err = tx.QueryRow(ctx, "SELECT version FROM overlap_schema").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, "INSERT INTO overlap_schema (version) VALUES (0)")
	}
	if err != nil {
		return err
	}
	if v > len(postgresMigrations) {
		return fmt.Errorf("schema version %d is newer than this overlap knows (%d)", v, len(postgresMigrations))
	}
	for ; v < len(postgresMigrations); v++ {
		if _, err := tx.Exec(ctx, postgresMigrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE overlap_schema SET version = $1", v); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

var recordColumns = []string{"received_at", "client_ip", "client_port", "server_addr", "size", "body", "ended"}

// Append stores recs with one COPY in one transaction.
func (s *Postgres) Append(ctx context.Context, recs []*Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: postgres: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		r := recs[i]
		i++
		body := r.Body
		if body == nil {
			body = []byte{}
		}
		return []any{micros(r.ReceivedAt), r.ClientIP, int32(r.ClientPort), r.ServerAddr, int64(len(r.Body)), body, string(r.End)}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordColumns, src); err != nil {
		return fmt.Errorf("store: postgres: copy: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: postgres: commit: %w", err)
	}
	return nil
}

// Query returns the records f selects.
func (s *Postgres) Query(ctx context.Context, f Filter) ([]Record, error) {
	q, args := postgresDialect.selectSQL(f)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: query: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var port int32
		var ended string
		if err := rows.Scan(&r.ID, &r.ReceivedAt, &r.ClientIP, &port, &r.ServerAddr, &r.Size, &r.Body, &ended); err != nil {
			return nil, fmt.Errorf("store: postgres: scan: %w", err)
		}
		r.ReceivedAt, r.ClientPort, r.End = r.ReceivedAt.UTC(), int(port), End(ended)
		if r.Body == nil {
			r.Body = []byte{}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: postgres: query: %w", err)
	}
	return out, nil
}

// Get returns one record.
func (s *Postgres) Get(ctx context.Context, id int64) (*Record, error) {
	return getOne(ctx, s, id)
}

// Count returns how many records f selects.
func (s *Postgres) Count(ctx context.Context, f Filter) (int64, error) {
	q, args := postgresDialect.countSQL(f)
	var n int64
	if err := s.pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: postgres: count: %w", err)
	}
	return n, nil
}

// Close closes the pool.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}

// String names the store without its password.
func (s *Postgres) String() string { return s.name }

// redact drops the password from a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
