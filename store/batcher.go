// The batcher turns a stream of rows (records, orders) into few, large
// transactions, and
// is where backpressure starts: it holds at most a budget of bytes, and a
// producer told "no room" stops reading from its client until WhenRoom
// calls it back. Nothing is ever dropped: a failed transaction is retried,
// with backoff, until it commits or the batcher is closed.

package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// BatchConfig tunes a Batcher. Zero fields take the defaults.
type BatchConfig struct {
	// MaxRecords per transaction (default 4096).
	MaxRecords int
	// MaxBytes of bodies per transaction (default 8 MiB).
	MaxBytes int
	// Budget is how many bytes of records may wait for their commit before
	// Add reports no room (default 64 MiB).
	Budget int64
	// OnCommit, if set, is called after each commit with the number of rows
	// it stored, on the batcher's goroutine.
	OnCommit func(n int)
	// Logger receives outages and recoveries (nil = slog.Default()).
	Logger *slog.Logger
}

// recordOverhead is what a queued record costs beyond its body.
const recordOverhead = 160

// Batcher commits rows of type T in batches, through its commit function.
type Batcher[T any] struct {
	name     string                           // the store, for logs and errors
	commitFn func(context.Context, []T) error // one transaction
	sizeFn   func(T) (body int)               // payload bytes of a row
	cfg      BatchConfig
	log      *slog.Logger

	mu        sync.Mutex
	queue     []T
	pending   int64 // bytes added and not yet committed
	added     uint64
	committed uint64
	waiters   []func()
	progress  chan struct{} // closed and replaced at each commit
	closed    bool
	closeErr  error           // what Close reported
	abort     context.Context // done when Close gives up retrying
	cancel    context.CancelFunc

	kick chan struct{}
	done chan struct{}

	stats struct {
		records, bytes, commits, failures, rejected atomic.Int64
		commitNanos                                 atomic.Int64 // of the last commit
	}
}

// NewBatcher starts a batcher writing records to st.
func NewBatcher(st Store, cfg BatchConfig) *Batcher[*Record] {
	return newBatcher(st.String(), st.Append, func(r *Record) int { return len(r.Body) }, cfg)
}

func newBatcher[T any](name string, commit func(context.Context, []T) error, size func(T) int, cfg BatchConfig) *Batcher[T] {
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 4096
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 8 << 20
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Batcher[T]{name: name, commitFn: commit, sizeFn: size, cfg: cfg, log: cfg.Logger.With("store", name),
		progress: make(chan struct{}), kick: make(chan struct{}, 1), done: make(chan struct{})}
	b.abort, b.cancel = context.WithCancel(context.Background())
	go b.run()
	return b
}

// ErrClosed is returned by Add after Close, and by Flush when Close gave
// up on rows it was waiting for.
var ErrClosed = errors.New("store: batcher closed")

// Add queues r for commit; the batcher owns r from then on. It reports
// whether there is still room: false means the budget is spent, and the
// caller should stop producing until WhenRoom calls back. Add never refuses
// a record while open, so a caller never has to drop what it has read.
func (b *Batcher[T]) Add(r T) (room bool, err error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false, ErrClosed
	}
	b.queue = append(b.queue, r)
	b.pending += int64(b.sizeFn(r)) + recordOverhead
	b.added++
	room = b.pending < b.cfg.Budget
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
	return room, nil
}

// WhenRoom calls fn once there is room: at once, on the caller's goroutine,
// if there is room now; otherwise later, on the batcher's goroutine.
func (b *Batcher[T]) WhenRoom(fn func()) {
	b.mu.Lock()
	if b.pending < b.cfg.Budget || b.closed {
		b.mu.Unlock()
		fn()
		return
	}
	b.waiters = append(b.waiters, fn)
	b.mu.Unlock()
}

// Flush waits until every record added before the call is committed.
func (b *Batcher[T]) Flush(ctx context.Context) error {
	b.mu.Lock()
	target := b.added
	for b.committed < target {
		ch := b.progress
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			b.mu.Lock()
			left := b.added - b.committed
			b.mu.Unlock()
			return fmt.Errorf("store: %d records not yet committed to %s: %w", left, b.name, ctx.Err())
		case <-b.done:
		}
		b.mu.Lock()
		if b.closed && b.committed < target && b.isDone() {
			left := b.added - b.committed
			b.mu.Unlock()
			return fmt.Errorf("store: %d records not committed to %s: %w", left, b.name, ErrClosed)
		}
	}
	b.mu.Unlock()
	return nil
}

func (b *Batcher[T]) isDone() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// Close commits everything added, then stops. If ctx ends first it stops
// retrying and says how many records were not committed.
func (b *Batcher[T]) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.closeErr
	}
	b.closed = true
	waiters := b.waiters
	b.waiters = nil
	b.mu.Unlock()
	for _, fn := range waiters {
		fn()
	}
	select {
	case b.kick <- struct{}{}:
	default:
	}
	stop := context.AfterFunc(ctx, b.cancel)
	defer stop()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	if left := b.added - b.committed; left > 0 {
		b.closeErr = fmt.Errorf("store: %d records not committed to %s: %w", left, b.name, ctx.Err())
	}
	return b.closeErr
}

// Stats is a snapshot of a batcher's counters.
type Stats struct {
	Records, Bytes, Commits, Failures int64 // committed so far
	Rejected                          int64 // rows the store refused for good (dropped, logged)
	Pending                           int64 // bytes waiting for their commit
	LastCommit                        time.Duration
}

// Stats returns the counters.
func (b *Batcher[T]) Stats() Stats {
	b.mu.Lock()
	pending := b.pending
	b.mu.Unlock()
	return Stats{
		Records: b.stats.records.Load(), Bytes: b.stats.bytes.Load(),
		Commits: b.stats.commits.Load(), Failures: b.stats.failures.Load(), Rejected: b.stats.rejected.Load(),
		Pending: pending, LastCommit: time.Duration(b.stats.commitNanos.Load()),
	}
}

func (b *Batcher[T]) run() {
	defer close(b.done)
	var batch []T
	var bytes int64
	for {
		b.mu.Lock()
		batch, bytes = b.takeLocked(batch[:0])
		closed := b.closed
		b.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-b.kick
			continue
		}
		if !b.commit(batch) {
			return // Close gave up
		}
		b.mu.Lock()
		b.pending -= bytes
		b.committed += uint64(len(batch))
		close(b.progress)
		b.progress = make(chan struct{})
		var wake []func()
		if b.pending < b.cfg.Budget {
			wake, b.waiters = b.waiters, nil
		}
		b.mu.Unlock()
		for _, fn := range wake {
			fn()
		}
		clear(batch)
	}
}

// takeLocked moves the next batch off the queue and returns its cost.
func (b *Batcher[T]) takeLocked(batch []T) ([]T, int64) {
	var cost int64
	body := 0
	n := 0
	for n < len(b.queue) && n < b.cfg.MaxRecords && (n == 0 || body+b.sizeFn(b.queue[n]) <= b.cfg.MaxBytes) {
		r := b.queue[n]
		size := b.sizeFn(r)
		batch = append(batch, r)
		body += size
		cost += int64(size) + recordOverhead
		n++
	}
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch, cost
}

// commit stores batch, retrying with backoff until it commits (true) or
// Close gives up (false).
func (b *Batcher[T]) commit(batch []T) bool {
	backoff := 10 * time.Millisecond
	outage := false
	for {
		start := time.Now()
		err := b.commitFn(b.abort, batch)
		if err == nil {
			d := time.Since(start)
			b.stats.commitNanos.Store(int64(d))
			b.stats.commits.Add(1)
			b.stats.records.Add(int64(len(batch)))
			var n int64
			for _, r := range batch {
				n += int64(b.sizeFn(r))
			}
			b.stats.bytes.Add(n)
			if outage {
				b.log.Info("store is back; records committed again", "records", len(batch))
			}
			if b.cfg.OnCommit != nil {
				b.cfg.OnCommit(len(batch))
			}
			return true
		}
		b.stats.failures.Add(1)
		if permanent(err) {
			// Retrying would wedge everything queued behind these rows:
			// find the rows the store refuses, and commit the rest.
			if len(batch) > 1 {
				h := len(batch) / 2
				return b.commit(batch[:h]) && b.commit(batch[h:])
			}
			b.stats.rejected.Add(1)
			b.log.Error("the store refuses a row for good; it is dropped", "err", err)
			return true
		}
		if b.abort.Err() != nil {
			b.log.Error("giving up on the store at shutdown", "records_lost", len(batch), "err", err)
			return false
		}
		if !outage {
			b.log.Warn("store unavailable; retrying, and reading from clients pauses once the queue is full",
				"err", err, "queued_bytes", b.Stats().Pending)
			outage = true
		}
		select {
		case <-time.After(backoff):
		case <-b.abort.Done():
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// WakeWaiters calls every pending WhenRoom callback now, room or not: a
// stopping service uses it to let paused connections see that they are
// closed.
func (b *Batcher[T]) WakeWaiters() {
	b.mu.Lock()
	w := b.waiters
	b.waiters = nil
	b.mu.Unlock()
	for _, fn := range w {
		fn()
	}
}

// permanent reports whether err is the store refusing these rows for good
// (bad data, a constraint, a value too big), as opposed to an outage that
// retrying will outlast.
func permanent(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 22: data exception (a NUL in text, a bad encoding); 23:
		// integrity constraint; 54000: program limit exceeded.
		return strings.HasPrefix(pg.Code, "22") || strings.HasPrefix(pg.Code, "23") || pg.Code == "54000"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 18, 19, 20: // SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH
			return true
		}
	}
	return false
}
