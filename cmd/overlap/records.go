// overlap records: list, show, tail, export and count what the recorder
// stored, in either store.

package main

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/overlap-go/overlap/admin"
	"github.com/overlap-go/overlap/store"
)

const recordsUsage = `Usage:
  overlap records list   [--store URL] [--since T] [--until T] [--ip IP] [--min-size N] [--max-size N] [--limit N]
  overlap records show   [--store URL] ID
  overlap records tail   [--store URL] [-f] [-n N]
  overlap records export [--store URL] [--format jsonl|csv] [filters]
  overlap records count  [--store URL] [filters]

T is RFC 3339 (2026-11-23T10:00:00Z) or a duration back from now (15m).
`

func records(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, recordsUsage)
		if len(args) == 0 {
			return usageError{"records: name a subcommand (list, show, tail, export, count)"}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("records "+sub, "overlap records "+sub+" [flags]", stderr)
	storeURL := fs.String("store", envOr("OVERLAP_STORE", store.DefaultURL), "store: sqlite:PATH or postgres://... (env OVERLAP_STORE)")
	var ff filterFlags
	switch sub {
	case "list", "export", "count":
		ff.register(fs, sub == "list")
	case "show", "tail":
	default:
		return usageError{fmt.Sprintf("records: unknown subcommand %q (list, show, tail, export, count)", sub)}
	}
	format := "jsonl"
	if sub == "export" {
		fs.StringVar(&format, "format", "jsonl", "jsonl or csv (bodies as base64)")
	}
	follow, n := false, 10
	if sub == "tail" {
		fs.BoolVar(&follow, "f", false, "follow: print new records as they are stored")
		fs.IntVar(&n, "n", 10, "print the last N records first")
	}
	if err := fs.Parse(rest); err != nil {
		return flagErr(err)
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	var id int64
	if sub == "show" {
		if fs.NArg() != 1 {
			return usageError{"records show: give one record ID"}
		}
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); err != nil {
			return usageError{fmt.Sprintf("records show: %q is not a record ID", fs.Arg(0))}
		}
	} else if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if format != "jsonl" && format != "csv" {
		return usageError{fmt.Sprintf("--format: %q is not jsonl or csv", format)}
	}
	st, err := store.Open(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "list":
		f.BodyLimit = 48
		rs, err := st.Query(ctx, f)
		if err != nil {
			return err
		}
		printList(stdout, rs)
	case "show":
		r, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		printRecord(stdout, r)
	case "count":
		c, err := st.Count(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, c)
	case "export":
		return export(ctx, st, f, format, stdout)
	case "tail":
		return tail(ctx, st, n, follow, stdout)
	}
	return nil
}

// filterFlags are the record filters of list, export and count.
type filterFlags struct {
	since, until string
	ip           string
	minSize      int64
	maxSize      int64
	limit        int
}

func (f *filterFlags) register(fs interface {
	StringVar(*string, string, string, string)
	Int64Var(*int64, string, int64, string)
	IntVar(*int, string, int, string)
}, list bool) {
	fs.StringVar(&f.since, "since", "", "records received at or after T")
	fs.StringVar(&f.until, "until", "", "records received before T")
	fs.StringVar(&f.ip, "ip", "", "records from this client IP")
	fs.Int64Var(&f.minSize, "min-size", 0, "records of at least N bytes")
	fs.Int64Var(&f.maxSize, "max-size", 0, "records of at most N bytes (0 = any)")
	def := 0
	if list {
		def = 50
	}
	fs.IntVar(&f.limit, "limit", def, "at most N records (0 = all)")
}

func (f *filterFlags) filter() (store.Filter, error) {
	var out store.Filter
	var err error
	if out.Since, err = parseWhen(f.since); err != nil {
		return out, usageError{"--since: " + err.Error()}
	}
	if out.Until, err = parseWhen(f.until); err != nil {
		return out, usageError{"--until: " + err.Error()}
	}
	out.ClientIP, out.MinSize, out.MaxSize, out.Limit = f.ip, f.minSize, f.maxSize, f.limit
	return out, nil
}

// parseWhen parses RFC 3339 or a duration back from now.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%q is neither RFC 3339 nor a duration", s)
	}
	return t, nil
}

func printList(w io.Writer, rs []store.Record) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED (UTC)\tCLIENT\tSIZE\tENDED\tPREVIEW")
	for _, r := range rs {
		printRow(tw, &r)
	}
	tw.Flush()
}

func printRow(w io.Writer, r *store.Record) {
	fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.ReceivedAt.Format("2006-01-02 15:04:05.000000"),
		net2(r.ClientIP, r.ClientPort), r.Size, r.End, preview(r.Body, r.Size))
}

func net2(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// preview renders the start of a body on one line: text with control
// characters escaped, or hex when it is not text.
func preview(b []byte, size int64) string {
	var s string
	if admin.IsText(b) {
		s = strconv.Quote(string(b))
		s = s[1 : len(s)-1]
	} else {
		s = "hex:" + hex.EncodeToString(b[:min(len(b), 16)])
	}
	if int64(len(b)) < size {
		s += "…"
	}
	return s
}

func printRecord(w io.Writer, r *store.Record) {
	fmt.Fprintf(w, "id:          %d\nreceived:    %s\nclient:      %s\nserver:      %s\nsize:        %d\nended:       %s\n",
		r.ID, r.ReceivedAt.Format(time.RFC3339Nano), net2(r.ClientIP, r.ClientPort), r.ServerAddr, r.Size, r.End)
	if terminalSafe(r.Body) {
		fmt.Fprintf(w, "body (text):\n%s", r.Body)
		if len(r.Body) > 0 && r.Body[len(r.Body)-1] != '\n' {
			fmt.Fprintln(w)
		}
		return
	}
	fmt.Fprintf(w, "body (hex):\n%s", hex.Dump(r.Body))
}

// exportRow is one JSONL row.
type exportRow struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	ClientIP   string    `json:"client_ip"`
	ClientPort int       `json:"client_port"`
	ServerAddr string    `json:"server_addr"`
	Size       int64     `json:"size"`
	Ended      store.End `json:"ended"`
	Body       []byte    `json:"body_base64"` // encoding/json writes []byte as base64
}

// exportBatchBytes bounds the bodies export holds at once.
const exportBatchBytes = 8 << 20

// export writes the selected records oldest first. It reads a page of
// records without bodies, then their bodies a few at a time, so memory
// stays bounded by exportBatchBytes (or one body) whatever the table holds.
func export(ctx context.Context, st store.Store, f store.Filter, format string, w io.Writer) error {
	const page = 256
	left := f.Limit
	f.Ascending = true
	enc := json.NewEncoder(w)
	cw := csv.NewWriter(w)
	if format == "csv" {
		cw.Write([]string{"id", "received_at", "client_ip", "client_port", "server_addr", "size", "ended", "body_base64"})
	}
	write := func(r *store.Record) error {
		if format == "csv" {
			cw.Write([]string{strconv.FormatInt(r.ID, 10), r.ReceivedAt.Format(time.RFC3339Nano), r.ClientIP,
				strconv.Itoa(r.ClientPort), r.ServerAddr, strconv.FormatInt(r.Size, 10), string(r.End),
				base64.StdEncoding.EncodeToString(r.Body)})
			cw.Flush()
			return cw.Error()
		}
		return enc.Encode(exportRow{r.ID, r.ReceivedAt, r.ClientIP, r.ClientPort, r.ServerAddr, r.Size, r.End, r.Body})
	}
	for {
		f.Limit, f.BodyLimit = page, -1
		if left > 0 {
			f.Limit = min(page, left)
		}
		meta, err := st.Query(ctx, f)
		if err != nil {
			return err
		}
		// Bodies for runs of records whose sizes add up to the batch bound.
		for i := 0; i < len(meta); {
			n, bytes := 0, int64(0)
			for i+n < len(meta) && (n == 0 || bytes+meta[i+n].Size <= exportBatchBytes) {
				bytes += meta[i+n].Size
				n++
			}
			rs, err := st.Query(ctx, store.Filter{AfterID: meta[i].ID - 1, Ascending: true, Limit: n,
				Since: f.Since, Until: f.Until, ClientIP: f.ClientIP, MinSize: f.MinSize, MaxSize: f.MaxSize})
			if err != nil {
				return err
			}
			for k := range rs {
				if err := write(&rs[k]); err != nil {
					return err
				}
			}
			i += n
		}
		if left > 0 {
			if left -= len(meta); left <= 0 {
				return nil
			}
		}
		if len(meta) < f.Limit {
			return nil
		}
		f.AfterID = meta[len(meta)-1].ID
	}
}

// tailPoll is how often tail -f asks the store for new records.
const tailPoll = 250 * time.Millisecond

func tail(ctx context.Context, st store.Store, n int, follow bool, w io.Writer) error {
	last := []store.Record{}
	if n > 0 {
		rs, err := st.Query(ctx, store.Filter{Limit: n, BodyLimit: 48})
		if err != nil {
			return err
		}
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		last = rs
	}
	printList(w, last)
	if !follow {
		return nil
	}
	var after int64
	if len(last) > 0 {
		after = last[len(last)-1].ID
	} else if rs, err := st.Query(ctx, store.Filter{Limit: 1, BodyLimit: -1}); err == nil && len(rs) > 0 {
		after = rs[0].ID
	}
	t := time.NewTicker(tailPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rs, err := st.Query(ctx, store.Filter{AfterID: after, Ascending: true, Limit: 1000, BodyLimit: 48})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, r := range rs {
			printRow(tw, &r)
			after = r.ID
		}
		tw.Flush()
	}
}

// terminalSafe reports whether b can be written to a terminal as it is:
// text with no control character but newline, tab and a CR before a newline
// (a lone carriage return or a vertical tab could overwrite what was
// printed before).
func terminalSafe(b []byte) bool {
	if !admin.IsText(b) {
		return false
	}
	s := string(b)
	for i, r := range s {
		switch {
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
		case unicode.IsControl(r) && r != '\n' && r != '\t', r == '\u2028', r == '\u2029':
			return false
		}
	}
	return true
}
