// overlap version: what this binary is.

package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/overlap-go/overlap/engine"
)

func printVersion(w io.Writer) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	_, err := fmt.Fprintf(w, "overlap %s (%s, %s/%s, engine backend %s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, engine.Backend)
	return err
}
