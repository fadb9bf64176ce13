// Package serve holds the plumbing every peer echo server in bench/servers
// shares: the -addr flag, raising the open-file limit, announcing the
// listening address on stdout and waiting for SIGTERM/SIGINT.
//
// The harness starts each server with `-addr 127.0.0.1:0` and waits for the
// single stdout line "echo listening on HOST:PORT", so nothing else may be
// written to stdout; libraries' logs are pointed at stderr by each server.
package serve

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Addr registers the -addr flag shared by all servers and returns a pointer
// to its value. Call before flag.Parse.
func Addr() *string {
	return flag.String("addr", "127.0.0.1:0", "listen address HOST:PORT (port 0 picks a free port)")
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit, so a server
// can hold as many idle connections as the machine allows. Go does this by
// itself at start-up since 1.19; doing it explicitly keeps the intent visible
// and reports a failure.
func RaiseNoFile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "getrlimit:", err)
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
		}
	}
}

// Announce prints the ready line the harness waits for. addr must be the
// actual bound address (with the kernel-chosen port).
func Announce(addr string) {
	fmt.Fprintf(os.Stdout, "echo listening on %s\n", addr)
}

// Fatal prints err to stderr and exits with status 1.
func Fatal(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

// WaitSignal blocks until SIGTERM or SIGINT arrives.
func WaitSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
