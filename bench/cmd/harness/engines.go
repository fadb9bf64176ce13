// engines.go: the engines under test and how each one is built.

package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kinds of engine, which decide the comparison columns of the report.
const (
	kindSubject = "subject" // overlap itself
	kindGoPeer  = "go-peer" // another Go networking library
	kindCFloor  = "c-floor" // the minimal C epoll server
)

// engine is one echo server implementation.
type engine struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version,omitempty"`
	// Missing, when set, says why the engine could not be built or started;
	// it is then reported as such instead of being dropped.
	Missing string `json:"missing,omitempty"`

	bin  string   // built executable
	args []string // arguments before the listen address flag
	addr string   // name of the listen address flag
	mod  string   // Go module whose version identifies the engine
}

// allEngines lists every engine in report order.
func allEngines() []*engine {
	return []*engine{
		{Name: "overlap", Kind: kindSubject, args: []string{"serve", "echo"}, addr: "--addr"},
		{Name: "gnet", Kind: kindGoPeer, addr: "-addr", mod: "github.com/panjf2000/gnet/v2"},
		{Name: "netpoll", Kind: kindGoPeer, addr: "-addr", mod: "github.com/cloudwego/netpoll"},
		{Name: "nbio", Kind: kindGoPeer, addr: "-addr", mod: "github.com/lesismal/nbio"},
		{Name: "stdnet", Kind: kindGoPeer, addr: "-addr"},
		{Name: "c-epoll", Kind: kindCFloor, addr: "-addr"},
	}
}

// command returns the argv that starts e listening on addr.
func (e *engine) command(addr string) []string {
	argv := append([]string{e.bin}, e.args...)
	return append(argv, e.addr, addr)
}

// builder compiles the engines and the load generator into binDir.
type builder struct {
	benchDir string // the bench module
	rootDir  string // the overlap repository root, parent of benchDir
	binDir   string
}

// build compiles e, setting e.bin and e.Version, or e.Missing on failure.
func (b *builder) build(e *engine) {
	e.bin = filepath.Join(b.binDir, e.Name)
	var err error
	switch e.Kind {
	case kindSubject:
		if _, serr := os.Stat(filepath.Join(b.rootDir, "cmd", "overlap")); serr != nil {
			e.Missing = "build: " + filepath.Join(b.rootDir, "cmd", "overlap") + " does not exist yet"
			return
		}
		err = run(b.rootDir, "go", "build", "-o", e.bin, "./cmd/overlap")
		e.Version = gitVersion(b.rootDir)
	case kindGoPeer:
		err = run(b.benchDir, "go", "build", "-o", e.bin, "./servers/"+e.Name)
		if err == nil {
			e.Version = moduleVersion(e.bin, e.mod)
		}
	case kindCFloor:
		err = run(b.benchDir, "gcc", "-O2", "-Wall", "-o", e.bin, "c/echo.c")
		if err == nil {
			e.Version = gccVersion()
		}
	}
	if err != nil {
		e.Missing = "build: " + err.Error()
	}
}

// buildLoadgen compiles the C load generator.
func (b *builder) buildLoadgen() (string, error) {
	bin := filepath.Join(b.binDir, "loadgen")
	return bin, run(b.benchDir, "gcc", "-O2", "-Wall", "-o", bin, "c/loadgen.c", "-lm")
}

// run runs a build command in dir; its error carries the first lines of the
// command's output.
func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, firstLines(string(out), 4))
	}
	return nil
}

// firstLines returns up to n non-empty lines of s joined with " | ".
func firstLines(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && len(keep) < n {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, " | ")
}

// moduleVersion reads the version of module mod linked into bin, or "go"
// plus the toolchain version when mod is empty (the standard library).
func moduleVersion(bin, mod string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	if mod == "" {
		return info.GoVersion
	}
	for _, d := range info.Deps {
		if d.Path == mod {
			return d.Version
		}
	}
	return ""
}

// gitVersion describes the checked-out commit of the repository at dir,
// marked "+dirty" when files outside bench/ differ from it.
func gitVersion(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(out))
	st, _ := exec.Command("git", "-C", dir, "status", "--porcelain", "--", ".", ":(exclude)bench").Output()
	if len(bytes.TrimSpace(st)) > 0 {
		v += "+dirty"
	}
	return v
}

func gccVersion() string {
	out, err := exec.Command("gcc", "-dumpfullversion").Output()
	if err != nil {
		return ""
	}
	return "gcc " + strings.TrimSpace(string(out))
}
