// Command testfilter reads `go test -json` on standard input and prints what
// a plain `go test` would (package results, and the full output of failing
// tests only), followed by which implementations each contract suite ran
// against and a closing count. scripts/test pipes the project's one test run
// through it, so the suite runs once and still reports per implementation.
//
// A contract suite is a top-level test named TestContract… whose direct
// subtests are implementations (TestContract/sqlite, TestContractCache/redis).
// It exits 1 when any test or package failed or did not build.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type contractResult struct {
	pkg, test, result, reason string
}

type filter struct {
	out                   io.Writer
	lines                 map[string][]string // pkg + " " + root test → buffered output
	byTest                map[string][]string // pkg + " " + full test name → its own output
	contracts             []contractResult
	passed, failed, skips int
	broken                bool // a package failed or did not build
}

func main() {
	f := &filter{out: os.Stdout, lines: map[string][]string{}, byTest: map[string][]string{}}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		f.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "testfilter: reading go test output: %v\n", err)
		os.Exit(1)
	}
	f.summary()
	if f.failed > 0 || f.broken {
		os.Exit(1)
	}
}

func (f *filter) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil || e.Action == "" {
		fmt.Fprintln(f.out, string(b)) // not an event: go command or build messages
		return
	}
	root, _, _ := strings.Cut(e.Test, "/")
	key := e.Package + " " + root
	switch e.Action {
	case "build-output":
		fmt.Fprint(f.out, e.Output)
	case "build-fail":
		f.broken = true
	case "output":
		if e.Test == "" {
			if e.Output != "PASS\n" {
				fmt.Fprint(f.out, e.Output)
			}
			return
		}
		if t := strings.TrimSpace(e.Output); strings.HasPrefix(t, "=== ") {
			return
		}
		f.lines[key] = append(f.lines[key], e.Output)
		f.byTest[e.Package+" "+e.Test] = append(f.byTest[e.Package+" "+e.Test], e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			if e.Action == "fail" {
				f.broken = true
				f.flushPackage(e.Package) // tests cut short by a panic or timeout
			}
			return
		}
		switch e.Action {
		case "pass":
			f.passed++
		case "fail":
			f.failed++
		case "skip":
			f.skips++
		}
		if strings.HasPrefix(root, "TestContract") && strings.Count(e.Test, "/") == 1 {
			f.contracts = append(f.contracts, contractResult{
				pkg: e.Package, test: e.Test, result: strings.ToUpper(e.Action),
				reason: f.skipReason(e.Package + " " + e.Test),
			})
		}
		if e.Test == root {
			if e.Action == "fail" {
				f.flush(key)
			}
			delete(f.lines, key)
		}
	}
}

// skipReason is the last message a skipped test logged, if any.
func (f *filter) skipReason(key string) string {
	lines := f.byTest[key]
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if t != "" && !strings.HasPrefix(t, "--- ") {
			if _, msg, ok := strings.Cut(t, ": "); ok && strings.Contains(t[:len(t)-len(msg)], ".go:") {
				return msg
			}
			return t
		}
	}
	return ""
}

func (f *filter) flush(key string) {
	for _, l := range f.lines[key] {
		fmt.Fprint(f.out, l)
	}
}

func (f *filter) flushPackage(pkg string) {
	keys := make([]string, 0)
	for k := range f.lines {
		if strings.HasPrefix(k, pkg+" ") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.flush(k)
		delete(f.lines, k)
	}
}

func (f *filter) summary() {
	if len(f.contracts) > 0 {
		sort.SliceStable(f.contracts, func(i, j int) bool {
			a, b := f.contracts[i], f.contracts[j]
			if a.test != b.test {
				return a.test < b.test
			}
			return a.pkg < b.pkg
		})
		fmt.Fprintln(f.out, "\nContract suites ran against:")
		for _, c := range f.contracts {
			line := fmt.Sprintf("  %-4s  %-40s (package %s)", c.result, c.test, path.Base(c.pkg))
			if c.result == "SKIP" && c.reason != "" {
				line += ": " + c.reason
			}
			fmt.Fprintln(f.out, line)
		}
		fmt.Fprintln(f.out)
	}
	fmt.Fprintf(f.out, "tests: %d passed, %d failed, %d skipped\n", f.passed, f.failed, f.skips)
}
