package handlers_test

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The walls of docs/architecture.md, checked on the module's own
// packages: their non-test imports for this GOOS/GOARCH, followed through
// every package of the module; a package outside it is a leaf (its own
// imports are not read). A pattern is an import path relative to the
// module ("handlers/admin") or a full one ("database/sql"); "/..." also
// matches the packages below.
var walls = []struct {
	from   string // a pattern of importing packages
	forbid []string
	why    string
}{
	{"handlers/public", []string{"handlers/admin/...", "internal/incident", "database/sql/...", "github.com/jackc/pgx/...", "modernc.org/sqlite/..."},
		"the public page neither knows the admin nor links the store; it hands record.Event to a Recorder"},
	{"handlers/admin", []string{"handlers/public/..."}, "the admin gets what it needs of the page as an interface or a func"},
	{"handlers/httpx", []string{"handlers/public/...", "handlers/admin/..."}, "the shared room knows neither product"},
	{"handlers/proxied", []string{"handlers/public/...", "handlers/admin/..."}, "reading the proxy's headers knows neither product"},
	{"internal/...", []string{"handlers/..."}, "domain code knows nothing of the HTTP rooms"},
	{"pages/...", []string{"handlers/..."}, "components are pure functions of view models"},
	{"locales/...", []string{"handlers/..."}, "the catalog serves both rooms"},
	{"static/...", []string{"handlers/..."}, "assets serve both rooms"},
}

const module = "github.com/gatewatch/gatewatch"

// match reports whether import path p (full) matches pattern pat.
func match(pat, p string) bool {
	if !strings.Contains(strings.SplitN(pat, "/", 2)[0], ".") {
		pat = module + "/" + pat
	}
	if base, ok := strings.CutSuffix(pat, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pat
}

// violation is an import chain from a package to a forbidden one.
type violation struct {
	chain []string
	why   string
}

func (v violation) String() string {
	short := make([]string, len(v.chain))
	for i, p := range v.chain {
		short[i] = strings.TrimPrefix(p, module+"/")
	}
	return strings.Join(short, " → ") + " (" + v.why + ")"
}

// check returns every package of graph (import path → its imports) that
// reaches a forbidden import, with the shortest chain to it.
func check(graph map[string][]string, rules []struct {
	from   string
	forbid []string
	why    string
}) []violation {
	var out []violation
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, rule := range rules {
		for _, from := range pkgs {
			if !match(rule.from, from) {
				continue
			}
			// Breadth first, so that the chain reported is a shortest one.
			parent := map[string]string{from: ""}
			queue := []string{from}
			for len(queue) > 0 {
				p := queue[0]
				queue = queue[1:]
				for _, imp := range graph[p] {
					if _, seen := parent[imp]; seen {
						continue
					}
					parent[imp] = p
					if slices.ContainsFunc(rule.forbid, func(pat string) bool { return match(pat, imp) }) {
						chain := []string{imp}
						for q := p; q != ""; q = parent[q] {
							chain = append([]string{q}, chain...)
						}
						out = append(out, violation{chain: chain, why: rule.why})
						continue
					}
					queue = append(queue, imp)
				}
			}
		}
	}
	return out
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
}

// moduleGraph reads the module's packages with go/build: the import graph
// of their non-test files, and every folder that holds Go files (tests
// alone included, as e2e), relative to root.
func moduleGraph(tb testing.TB, root string) (graph map[string][]string, folders []string) {
	tb.Helper()
	graph = map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		switch {
		case errors.As(err, &noGo):
			if len(pkg.TestGoFiles)+len(pkg.XTestGoFiles) == 0 {
				return nil
			}
		case err != nil:
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		folders = append(folders, rel)
		graph[module+"/"+rel] = pkg.Imports
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return graph, folders
}

func TestWalls(t *testing.T) {
	graph, _ := moduleGraph(t, moduleRoot(t))
	for _, p := range []string{"handlers/public", "handlers/admin", "handlers/httpx", "internal/incident", "pages"} {
		if _, ok := graph[module+"/"+p]; !ok {
			t.Fatalf("moduleGraph found no %s: the walls would check nothing", p)
		}
	}
	for _, v := range check(graph, walls) {
		t.Errorf("forbidden import: %s", v)
	}
}

// TestCheckFindsForbiddenImports shows that check fails a wall that is
// crossed, directly or through other packages, and only then.
func TestCheckFindsForbiddenImports(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	graph := map[string][]string{
		m("handlers/public"):          {"net/http", m("internal/announce")},
		m("internal/announce"):        {m("internal/incident/record"), m("internal/incident")},
		m("internal/incident"):        {"database/sql", "modernc.org/sqlite"},
		m("internal/incident/record"): {"time"},
		m("handlers/admin"):           {m("internal/incident")},
	}
	got := check(graph, walls)
	var s []string
	for _, v := range got {
		s = append(s, v.String())
	}
	want := "handlers/public → internal/announce → internal/incident"
	if len(got) != 1 || !strings.HasPrefix(s[0], want+" (") {
		t.Errorf("check(public via announce → incident) = %q; want one violation %q", s, want)
	}
	delete(graph, m("internal/incident"))
	graph[m("internal/announce")] = []string{m("internal/incident/record")}
	if got := check(graph, walls); len(got) != 0 {
		t.Errorf("check(public → record only) = %v; want none", got)
	}
	graph[m("internal/monitor")] = []string{m("handlers/httpx")}
	if got := check(graph, walls); len(got) != 1 || got[0].chain[0] != m("internal/monitor") {
		t.Errorf("check(internal/monitor → handlers/httpx) = %v; want one violation from internal/monitor", got)
	}
}

// TestArchitectureTable keeps docs/architecture.md's "Folder → what lives
// there" true: every Go package of the module has its row, and every row
// names a folder that exists.
func TestArchitectureTable(t *testing.T) {
	root := moduleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "## Folder → what lives there")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Folder → what lives there" section`)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			folder, _, _ := strings.Cut(rest, "`")
			rows[folder] = true
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(folder))); err != nil {
				t.Errorf("docs/architecture.md lists %s, which does not exist", folder)
			}
		}
	}
	_, folders := moduleGraph(t, root)
	for _, f := range folders {
		if f != "." && !rows[f] {
			t.Errorf("docs/architecture.md has no row for %s", f)
		}
	}
}
