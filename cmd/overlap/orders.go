// overlap serve orders / overlap send orders: the seed's PurchaseOrder
// service on net.tcp, and a client that streams purchase orders to it.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/overlap-go/overlap/engine"
	"github.com/overlap-go/overlap/protocols/nettcp"
	"github.com/overlap-go/overlap/protocols/soap"
	"github.com/overlap-go/overlap/services/orders"
)

// ordersFlags are the orders service's settings; prefix is "" for
// `serve orders` and "orders-" for plain `serve`.
type ordersFlags struct {
	addr, path string
	print      bool
	idle       time.Duration
	readSize   int
}

func (f *ordersFlags) register(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&f.addr, prefix+"addr", orders.DefaultAddr, "orders service listen address, HOST:PORT (port 0 picks a free port)")
	fs.StringVar(&f.path, prefix+"path", orders.DefaultPath, "orders service endpoint path (net.tcp://HOST:PORT/PATH)")
	fs.BoolVar(&f.print, prefix+"print", true, "print \"quantity, productName\" for every streamed order on stdout, as the seed does")
	fs.DurationVar(&f.idle, prefix+"idle-timeout", 2*time.Minute, "close a net.tcp session silent this long, mid-message or between messages")
	fs.IntVar(&f.readSize, prefix+"read-size", soap.DefaultFillSize, "bytes per socket read and XML fill (the seed reads 128)")
}

func (f *ordersFlags) service(stdout io.Writer) service {
	svc := &orders.Service{}
	if f.print {
		svc.Out = stdout
	}
	cfg := nettcp.Config{ReadSize: f.readSize, Limits: soap.Limits{FillSize: f.readSize}}
	h := orders.Handler(svc, f.path, cfg, f.idle, nil)
	return service{name: "orders", addr: f.addr, h: h, sock: h.SocketOptions()}
}

func serveOrders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve orders", "overlap serve orders [--addr HOST:PORT] [--path /example] [flags]", stderr)
	var ef engineFlags
	ef.register(fs)
	var of ordersFlags
	of.register(fs, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !strings.HasPrefix(of.path, "/") {
		return usageError{fmt.Sprintf("--path %q must start with /", of.path)}
	}
	return serve(ctx, &ef, []service{of.service(stdout)}, stdout, stderr)
}

func sendOrders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send orders", "overlap send orders [--url net.tcp://HOST:PORT/PATH] [--count N] [--per-message K]", stderr)
	url := fs.String("url", "net.tcp://127.0.0.1:8808/example", "the orders service's net.tcp URL")
	count := fs.Int("count", 1000, "purchase orders to send")
	per := fs.Int("per-message", 100, "purchase orders per one-way message (streamed in its body)")
	product := fs.String("product", "Pencil", "product name of every order")
	quiet := fs.Bool("quiet", false, "no progress line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *count < 0 || *per <= 0 {
		return usageError{"--count must be >= 0 and --per-message > 0"}
	}
	eng, err := engine.New(engine.Config{Loops: 1})
	if err != nil {
		return err
	}
	defer eng.Close()
	ch, err := nettcp.Dial(ctx, eng, *url, nettcp.Config{ReadSize: 4096})
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
