// overlap serve orders / overlap send orders: the seed's PurchaseOrder
// service on net.tcp, and a client that streams purchase orders to it.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/loadgen"
	"github.com/overlap-go/overlap/protocols/nettcp"
	"github.com/overlap-go/overlap/protocols/soap"
	"github.com/overlap-go/overlap/services/orders"
	"github.com/overlap-go/overlap/store"
)

// ordersFlags are the orders service's settings; prefix is "" for
// `serve orders` and "orders-" for plain `serve`.
type ordersFlags struct {
	addr, path string
	print      bool
	idle       time.Duration
	readSize   int
	fillSize   int
	store      *string // store URL (shared with the recorder in plain serve)
}

func (f *ordersFlags) register(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&f.addr, prefix+"addr", orders.DefaultAddr, "orders service listen address, HOST:PORT (port 0 picks a free port)")
	fs.StringVar(&f.path, prefix+"path", orders.DefaultPath, "orders service endpoint path (net.tcp://HOST:PORT/PATH)")
	fs.BoolVar(&f.print, prefix+"print", true, "print \"quantity, productName\" for every streamed order on stdout, as the seed does")
	fs.DurationVar(&f.idle, prefix+"idle-timeout", 2*time.Minute, "close a net.tcp session silent this long, mid-message or between messages")
	fs.IntVar(&f.readSize, prefix+"read-size", nettcp.DefaultReadSize, "bytes per socket read")
	fs.IntVar(&f.fillSize, prefix+"fill-size", soap.DefaultFillSize, "bytes per fill of the XML reader (the seed's WsFillReader uses 128)")
}

func (f *ordersFlags) service(stdout io.Writer) service {
	svc := &orders.Service{}
	if f.print {
		svc.Out = stdout
	}
	cfg := nettcp.Config{ReadSize: f.readSize, Limits: soap.Limits{FillSize: f.fillSize}}
	h := orders.Handler(svc, f.path, cfg, f.idle, nil)
	return f.withStore(service{name: "orders", addr: f.addr, h: h, sock: h.SocketOptions()}, svc)
}

func serveOrders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve orders", "overlap serve orders [--addr HOST:PORT] [--path /example] [flags]", stderr)
	var ef engineFlags
	ef.register(fs)
	var of ordersFlags
	of.register(fs, "")
	of.store = fs.String("store", envOr("OVERLAP_STORE", store.DefaultURL), "where orders go: sqlite:PATH or postgres://... (env OVERLAP_STORE)")
	ef.registerAdmin(fs, "off")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !strings.HasPrefix(of.path, "/") {
		return usageError{fmt.Sprintf("--path %q must start with /", of.path)}
	}
	return serve(ctx, &ef, []service{of.service(stdout)}, stdout, stderr)
}

func sendOrders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send orders", "overlap send orders [--url net.tcp://HOST:PORT/PATH] [--count N] [--per-message K] [--encoding text|binary]", stderr)
	url := fs.String("url", "net.tcp://127.0.0.1:8808/example", "the orders service's net.tcp URL")
	count := fs.Int("count", 1000, "purchase orders to send")
	per := fs.Int("per-message", 100, "purchase orders per one-way message (streamed in its body)")
	product := fs.String("product", "Pencil", "product name of every order")
	quiet := fs.Bool("quiet", false, "no progress line")
	encoding := encodingFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *count < 0 || *per <= 0 {
		return usageError{"--count must be >= 0 and --per-message > 0"}
	}
	binary, err := binaryEncoding(*encoding)
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Config{Loops: 1})
	if err != nil {
		return err
	}
	defer eng.Close()
	ch, err := nettcp.Dial(ctx, eng, *url, nettcp.Config{ReadSize: 4096, Binary: binary})
	if err != nil {
		return err
	}
	c := orders.IPurchaseOrderClient{Ch: ch}
	batch := make([]orders.PurchaseOrderType, *per)
	start := time.Now()
	var last time.Time
	sent := 0
	for sent < *count && ctx.Err() == nil {
		n := min(*per, *count-sent)
		for i := range batch[:n] {
			batch[i] = orders.PurchaseOrderType{Quantity: int32(sent + i + 1), ProductName: *product}
		}
		if err := c.SendOrder(batch[:n]); err != nil {
			ch.Close()
			return err
		}
		sent += n
		if !*quiet && time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			fmt.Fprintf(stderr, "\rsent %d/%d orders (%.0f%%)", sent, *count, 100*float64(sent)/float64(max(*count, 1)))
		}
	}
	// A request/reply round trip: the server has read everything before.
	conf, err := c.Order(&orders.PurchaseOrderType{Quantity: 1, ProductName: *product})
	if err == nil {
		err = ch.Close()
	} else {
		ch.Close()
	}
	if !*quiet {
		fmt.Fprintf(stderr, "\rsent %d/%d orders (100%%)\n", sent, *count)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "sent %d orders in %d messages in %v (%.0f orders/s); confirmation order %d, ships %s\n",
		sent, (sent+*per-1)/(*per), d.Round(time.Millisecond), float64(sent)/d.Seconds(), conf.OrderID, conf.ExpectedShipDate)
	return nil
}

func benchOrders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench orders", "overlap bench orders [--url net.tcp://HOST:PORT/PATH] [--sessions C] [--per-message K] [--duration D] [--encoding text|binary]", stderr)
	url := fs.String("url", "net.tcp://127.0.0.1:8808/example", "the orders service's net.tcp URL")
	sessions := fs.Int("sessions", 1, "concurrent net.tcp sessions")
	per := fs.Int("per-message", 100, "purchase orders per one-way message")
	duration := fs.Duration("duration", 5*time.Second, "how long each session sends")
	loops := fs.Int("loops", 1, "client event loops")
	quiet := fs.Bool("quiet", false, "no progress bar")
	encoding := encodingFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sessions <= 0 || *per <= 0 {
		return usageError{"--sessions and --per-message must be > 0"}
	}
	binary, err := binaryEncoding(*encoding)
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Config{Loops: *loops})
	if err != nil {
		return err
	}
	defer eng.Close()
	// One body, encoded once and sent again and again: the client costs a
	// copy per message, not an encoding.
	var body []byte
	for i := 0; i < *per; i++ {
		o := orders.PurchaseOrderType{Quantity: int32(i + 1), ProductName: "Pencils, box of 12"}
		body = o.AppendXML(body)
	}
	appendBody := func(b []byte) []byte { return append(b, body...) }
	chans := make([]*nettcp.Channel, *sessions)
	for i := range chans {
		if chans[i], err = nettcp.Dial(ctx, eng, *url, nettcp.Config{ReadSize: 4096, Binary: binary}); err != nil {
			for _, ch := range chans[:i] {
				ch.Close()
			}
			return fmt.Errorf("session %d: %w", i, err)
		}
	}
	var msgs, bytesOut atomic.Int64
	var bar *loadgen.Bar
	start := time.Now()
	stopBar := make(chan struct{})
	if !*quiet {
		bar = loadgen.NewBar(stderr, *duration)
		go func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					bar.Update(loadgen.Progress{Elapsed: time.Since(start), Messages: msgs.Load(), Bytes: bytesOut.Load()})
				case <-stopBar:
					return
				}
			}
		}()
	}
	deadline := start.Add(*duration)
	errs := make(chan error, *sessions)
	h := &soap.Headers{Action: orders.ActionOrder}
	for _, ch := range chans {
		go func(ch *nettcp.Channel) {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := ch.Send(h, appendBody); err != nil {
					ch.Close()
					errs <- err
					return
				}
				msgs.Add(1)
				bytesOut.Add(int64(len(body)))
			}
			// The server answers End once it has read every message.
			errs <- ch.Close()
		}(ch)
	}
	var first error
	for range chans {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	d := time.Since(start)
	close(stopBar)
	if bar != nil {
		bar.Done()
	}
	if first != nil {
		return first
	}
	m := msgs.Load()
	fmt.Fprintf(stdout, "sessions %d, %d orders per message: %d messages, %d orders in %v\n", *sessions, *per, m, m*int64(*per), d.Round(time.Millisecond))
	fmt.Fprintf(stdout, "%.0f messages/s, %.0f orders/s, %.1f MB/s of body\n", float64(m)/d.Seconds(), float64(m*int64(*per))/d.Seconds(), float64(bytesOut.Load())/d.Seconds()/1e6)
	return nil
}

// encodingFlag registers --encoding, the net.tcp message encoding.
func encodingFlag(fs *flag.FlagSet) *string {
	return fs.String("encoding", "text", "message encoding: text (UTF-8 SOAP 1.2) or binary (binary XML with in-band dictionary, NetTcpBinding's default)")
}

// binaryEncoding reports whether an --encoding value asks for binary.
func binaryEncoding(enc string) (bool, error) {
	switch enc {
	case "text":
		return false, nil
	case "binary":
		return true, nil
	}
	return false, usageError{fmt.Sprintf("--encoding %q: want text or binary", enc)}
}
