// overlap status: what a running `overlap serve` is doing, read from its
// admin API (the same JSON the admin page uses).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/overlap-go/overlap/admin"
)

func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "overlap status [--admin HOST:PORT] [--token T] [--json]", stderr)
	addr := fs.String("admin", admin.DefaultAddr, "address of the admin page of a running overlap serve")
	token := fs.String("token", os.Getenv("OVERLAP_ADMIN_TOKEN"), "admin token, when the admin page is off loopback (env OVERLAP_ADMIN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the API's JSON as is")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+*addr+"/api/status", nil)
	if err != nil {
		return err
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("status: is overlap serve running with its admin page on %s? %w", *addr, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(data, &e)
		return fmt.Errorf("status: %s: %s", resp.Status, e.Error)
	}
	if *asJSON {
		_, err := stdout.Write(data)
		return err
	}
	var st admin.Status
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("status: unexpected answer: %w", err)
	}
	fmt.Fprintf(stdout, "host %s (%v)\n", st.Host.Name, st.Host.Addresses)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tADDRESS\tSTATUS\tOPEN CONNS\tBYTES IN\tMESSAGES")
	for _, s := range st.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", s.Name, s.Addr, s.Status, s.Stats.Conns, s.Stats.BytesIn, s.Stats.Messages)
	}
	return tw.Flush()
}
