package config

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// lineIndex maps key paths ("site[1].brand.colors.primary") to the line
// that sets them, so validation problems found on the decoded struct can
// name the line an operator has to edit.
type lineIndex map[string]int

// indexLines walks the TOML document with go-toml's parser, tracking the
// current table and the element count of each array of tables. A document
// that does not parse yields what was read before the error.
func indexLines(data []byte) lineIndex {
	idx := lineIndex{}
	arrays := map[string]int{} // array-of-tables path -> elements so far
	var p unstable.Parser
	p.Reset(data)
	prefix := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts := keyParts(e.Key())
			var path string
			if e.Kind == unstable.ArrayTable && len(parts) > 0 {
				// [[a.b]] adds an element to a.b itself: descend into
				// the latest a, not into the latest a.b.
				path = resolve("", parts[:len(parts)-1], arrays)
				if path != "" {
					path += "."
				}
				path += parts[len(parts)-1]
				arrays[path]++
				path = fmt.Sprintf("%s[%d]", path, arrays[path]-1)
			} else {
				path = resolve("", parts, arrays)
			}
			prefix = path
			if line := lineOf(&p, data, e); line > 0 {
				idx.set(path, line)
			}
		case unstable.KeyValue:
			idx.keyValue(&p, data, prefix, e, arrays)
		}
	}
	return idx
}

func (idx lineIndex) keyValue(p *unstable.Parser, data []byte, prefix string, e *unstable.Node, arrays map[string]int) {
	path := resolve(prefix, keyParts(e.Key()), arrays)
	line := p.Shape(e.Raw).Start.Line
	idx.set(path, line)
	v := e.Value()
	switch v.Kind {
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			if l := lineOf(p, data, it.Node()); l > 0 {
				idx.set(fmt.Sprintf("%s[%d]", path, i), l)
			}
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if it.Node().Kind == unstable.KeyValue {
				idx.keyValue(p, data, path, it.Node(), arrays)
			}
		}
	}
}

func (idx lineIndex) set(path string, line int) {
	if _, ok := idx[path]; !ok {
		idx[path] = line
	}
}

// lookup returns the line of key, or of its nearest enclosing key or
// table when the key itself is absent (a missing setting is reported at
// its table's header), or 0.
func (idx lineIndex) lookup(key string) int {
	for key != "" {
		if l, ok := idx[key]; ok {
			return l
		}
		cut := strings.LastIndexAny(key, ".[")
		if cut < 0 {
			break
		}
		key = key[:cut]
	}
	return 0
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// resolve joins parts onto prefix, descending into the latest element of
// every array of tables on the way, as TOML does for [a.b] after [[a]].
func resolve(prefix string, parts []string, arrays map[string]int) string {
	path := prefix
	for _, part := range parts {
		if path == "" {
			path = part
		} else {
			path += "." + part
		}
		if n, ok := arrays[path]; ok && n > 0 {
			path = fmt.Sprintf("%s[%d]", path, n-1)
		}
	}
	return path
}

// lineOf finds the line of a node whose Data points into the document
// (keys and scalars read without escapes do); 0 for the others.
func lineOf(p *unstable.Parser, data []byte, n *unstable.Node) int {
	b := n.Data
	if n.Kind == unstable.Table || n.Kind == unstable.ArrayTable {
		it := n.Key()
		if !it.Next() {
			return 0
		}
		b = it.Node().Data
	}
	if len(b) == 0 || cap(data) < cap(b) {
		return 0
	}
	off := cap(data) - cap(b)
	if off+len(b) > len(data) || &data[off] != &b[0] {
		return 0
	}
	return p.Shape(unstable.Range{Offset: uint32(off), Length: uint32(len(b))}).Start.Line
}
