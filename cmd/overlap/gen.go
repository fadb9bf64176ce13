// overlap gen wsdl: generate Go from a WSDL (overlap's Wsutil).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/overlap-go/overlap/internal/wsdlgen"
)

func genWSDL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen wsdl", "overlap gen wsdl [-o FILE.go] [-package NAME] FILE.wsdl", stderr)
	out := fs.String("o", "", "output file (default: NAME_wsdl.go beside the WSDL; - for stdout)")
	pkg := fs.String("package", "", "Go package name (default: the output directory's name)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"gen wsdl: name one WSDL file (flags come before it)"}
	}
	file := fs.Arg(0)
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if *out == "" {
		base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		*out = filepath.Join(filepath.Dir(file), strings.ToLower(base)+"_wsdl.go")
	}
	if *pkg == "" {
		dir := filepath.Dir(*out)
		if *out == "-" {
			dir = filepath.Dir(file)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		*pkg = strings.ReplaceAll(filepath.Base(abs), "-", "_")
	}
	code, err := wsdlgen.Generate(file, src, *pkg)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = stdout.Write(code)
		return err
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", *out)
	return nil
}
