// Command overlap serves, sends to and benchmarks overlap's asynchronous TCP
// services. Run `overlap help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `overlap: asynchronous TCP services for Go

Usage:
  overlap serve [flags]            run every service (echo :7007, record :4096,
                                   orders net.tcp :8808, pipes :8809)
  overlap serve echo [flags]       run the echo service alone
  overlap serve record [flags]     run the recorder alone (stores into ./overlap.db by default)
  overlap serve orders [flags]     run the net.tcp PurchaseOrder service alone
  overlap serve pipes [flags]      run the asynchronous pipes service (gRPC) alone
  overlap send record [FILE|-]     send a file or stdin to a recorder as one record
  overlap send orders [flags]      stream purchase orders to a net.tcp orders service
  overlap send pipe [flags]        drive a pipe call on a pipes server
  overlap records SUBCOMMAND       list, show, tail, export or count stored records
  overlap bench echo [flags]       load-test an echo server
  overlap bench record [flags]     measure records/s into a store
  overlap bench orders [flags]     measure one-way messages/s and orders/s with C sessions
  overlap status [--admin ADDR]    what a running overlap serve is doing (its admin API)
  overlap gen wsdl FILE.wsdl       generate Go from a WSDL (types, service, client)
  overlap version                  print the version
  overlap help [command]           show help

Run 'overlap <command> --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit code: 0 success,
// 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := dispatch(ctx, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "overlap: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "overlap: %v\n", err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		if len(rest) > 0 && rest[0] == "echo" {
			return serveEcho(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "record" {
			return serveRecord(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "pipes" {
			return servePipes(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "orders" {
			return serveOrders(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
			return usageError{fmt.Sprintf("unknown service %q (services: echo, record, orders, pipes)", rest[0])}
		}
		return serveAll(ctx, rest, stdout, stderr)
	case "bench":
		if len(rest) > 0 && rest[0] == "echo" {
			return benchEcho(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "record" {
			return benchRecord(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "orders" {
			return benchOrders(ctx, rest[1:], stdout, stderr)
		}
		return usageError{"bench: name a service to benchmark (echo, record, orders)"}
	case "send":
		if len(rest) > 0 && rest[0] == "record" {
			return sendRecord(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "pipe" {
			return sendPipe(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "orders" {
			return sendOrders(ctx, rest[1:], stdout, stderr)
		}
		return usageError{"send: name what to send (record, orders, pipe)"}
	case "gen":
		if len(rest) > 0 && rest[0] == "wsdl" {
			return genWSDL(ctx, rest[1:], stdout, stderr)
		}
		return usageError{"gen: name what to generate from (wsdl)"}
	case "status":
		return status(ctx, rest, stdout, stderr)
	case "records":
		return records(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		return printVersion(stdout)
	case "help", "--help", "-help", "-h":
		if len(rest) > 0 {
			return dispatch(ctx, append(rest, "--help"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// newFlagSet returns a flag set that prints its usage to stderr and returns
// errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
