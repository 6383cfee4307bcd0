package browsernames

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
)

// ParseFTL reads the simple messages of a Fluent file: "id = value" and
// "id =" followed by indented ".attr = value" lines, keyed "id" and
// "id.attr". Multi-line values keep their first line; selectors and
// terms are not expanded (the menu names need neither).
func ParseFTL(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	id := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			id = ""
		case line[0] != ' ' && line[0] != '\t':
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				id = ""
				continue
			}
			id = strings.TrimSpace(k)
			if v = strings.TrimSpace(v); v != "" {
				out[id] = v
			}
		case id != "":
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, ".") {
				if k, v, ok := strings.Cut(t[1:], "="); ok {
					out[id+"."+strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
		}
	}
	return out, sc.Err()
}

// ftlFromZip reads the Fluent files under localization/LOC/ (omni.ja) or
// browser/localization/LOC/ (a language pack) of the zip at p.
func ftlFromZip(p string, files []string) (string, map[string]string, error) {
	z, err := zip.OpenReader(p)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", p, err)
	}
	defer z.Close()
	loc := ""
	out := map[string]string{}
	for _, f := range z.File {
		dir, name := path.Split(f.Name)
		for _, want := range files {
			wdir, wname := path.Split(want)
			if name != wname || !strings.HasSuffix(dir, "/"+wdir) {
				continue
			}
			// …/localization/LOC/browser/…
			rest := dir[strings.Index(dir, "localization/")+len("localization/"):]
			l, _, _ := strings.Cut(rest, "/")
			if loc == "" {
				loc = l
			}
			rc, err := f.Open()
			if err != nil {
				return "", nil, err
			}
			m, err := ParseFTL(rc)
			rc.Close()
			if err != nil {
				return "", nil, fmt.Errorf("%s: %s: %w", p, f.Name, err)
			}
			for k, v := range m {
				out[k] = v
			}
		}
	}
	return loc, out, nil
}

// Firefox reads the named strings of Firefox's own English (omni.ja in
// dir/browser) and of every language pack in dir/browser/extensions,
// keyed by Firefox's locale code ("de", "nb-NO", "zh-TW"). files are
// paths below localization/LOC/, such as "browser/browser.ftl".
func Firefox(dir string, files, names []string) (map[string]map[string]string, error) {
	zips, err := filepath.Glob(filepath.Join(dir, "browser", "extensions", "langpack-*.xpi"))
	if err != nil {
		return nil, err
	}
	if len(zips) == 0 {
		return nil, fmt.Errorf("no language packs in %s/browser/extensions: install firefox-esr-l10n-all", dir)
	}
	zips = append(zips, filepath.Join(dir, "browser", "omni.ja"))
	out := map[string]map[string]string{}
	for _, z := range zips {
		loc, all, err := ftlFromZip(z, files)
		if err != nil {
			return nil, err
		}
		if loc == "" {
			return nil, fmt.Errorf("%s: none of %v", z, files)
		}
		m := map[string]string{}
		for _, n := range names {
			if v, ok := all[n]; ok {
				m[n] = v
			}
		}
		out[loc] = m
	}
	return out, nil
}
