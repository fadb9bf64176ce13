// SQL shared by the SQLite and PostgreSQL stores: the WHERE clause a Filter
// makes, in either dialect.

package store

import (
	"fmt"
	"strings"
	"time"
)

// dialect is what differs between the two SQL stores.
type dialect struct {
	placeholder func(n int) string // the n-th argument, from 1
	timeArg     func(time.Time) any
	prefix      func(limit int) string // body expression cut to limit bytes
}

// where returns the WHERE clause (with leading space, or "") and its args.
func (d dialect) where(f Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, d.placeholder(len(args))))
	}
	if !f.Since.IsZero() {
		add("received_at >= %s", d.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add("received_at < %s", d.timeArg(f.Until))
	}
	if f.ClientIP != "" {
		add("client_ip = %s", f.ClientIP)
	}
	if f.MinSize > 0 {
		add("size >= %s", f.MinSize)
	}
	if f.MaxSize > 0 {
		add("size <= %s", f.MaxSize)
	}
	if f.AfterID > 0 {
		add("id > %s", f.AfterID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// selectSQL returns the query for f and its args.
func (d dialect) selectSQL(f Filter) (string, []any) {
	body := "body"
	switch {
	case f.BodyLimit < 0:
		body = d.prefix(0)
	case f.BodyLimit > 0:
		body = d.prefix(f.BodyLimit)
	}
	where, args := d.where(f)
	order := " ORDER BY id DESC"
	if f.Ascending {
		order = " ORDER BY id ASC"
	}
	q := "SELECT id, received_at, client_ip, client_port, server_addr, size, " + body + ", ended FROM records" + where + order
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return q, args
}

// countSQL returns the count query for f and its args.
func (d dialect) countSQL(f Filter) (string, []any) {
	where, args := d.where(f)
	if f.Limit > 0 {
		return fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM records%s LIMIT %d) AS s", where, f.Limit), args
	}
	return "SELECT count(*) FROM records" + where, args
}
