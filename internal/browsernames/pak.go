package browsernames

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadPak returns the resources of a Chromium .pak file (format 4 or 5)
// by numeric ID.
func ReadPak(path string) (map[uint16][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if len(b) < 9 {
		return nil, fmt.Errorf("%s: too short for a .pak", path)
	}
	var n, aliases, off int
	switch v := le.Uint32(b); v {
	case 4:
		n, off = int(le.Uint32(b[4:])), 9
	case 5:
		if len(b) < 12 {
			return nil, fmt.Errorf("%s: too short for a .pak", path)
		}
		n, aliases, off = int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), 12
	default:
		return nil, fmt.Errorf("%s: .pak version %d; want 4 or 5", path, v)
	}
	if off+6*(n+1)+4*aliases > len(b) {
		return nil, fmt.Errorf("%s: truncated index", path)
	}
	entry := func(i int) (uint16, int) {
		e := b[off+6*i:]
		return le.Uint16(e), int(le.Uint32(e[2:]))
	}
	out := make(map[uint16][]byte, n+aliases)
	for i := range n {
		id, start := entry(i)
		_, end := entry(i + 1)
		if start > end || end > len(b) {
			return nil, fmt.Errorf("%s: resource %d out of range", path, id)
		}
		out[id] = b[start:end]
	}
	at := off + 6*(n+1)
	for i := range aliases {
		a := b[at+4*i:]
		idx := int(le.Uint16(a[2:]))
		if idx >= n {
			return nil, fmt.Errorf("%s: alias to entry %d of %d", path, idx, n)
		}
		target, _ := entry(idx)
		out[le.Uint16(a)] = out[target]
	}
	return out, nil
}

// ReadPakInfo maps resource names (IDS_…) to IDs from the .pak.info file
// Chromium's build writes beside each .pak.
func ReadPakInfo(path string) (map[string]uint16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint16{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		if len(parts) < 2 {
			continue
		}
		id, err := strconv.ParseUint(parts[1], 10, 16)
		if err != nil {
			continue
		}
		out[parts[0]] = uint16(id)
	}
	return out, sc.Err()
}

// Chromium reads the named strings of every locale in dir (such as
// /usr/lib/chromium/locales), keyed by Chromium's locale code ("de",
// "pt-BR", "zh-TW"). Gendered variants (de_FEMININE.pak) are skipped.
func Chromium(dir string, names []string) (map[string]map[string]string, error) {
	paks, err := filepath.Glob(filepath.Join(dir, "*.pak"))
	if err != nil {
		return nil, err
	}
	if len(paks) == 0 {
		return nil, fmt.Errorf("no .pak files in %s: install chromium-l10n", dir)
	}
	out := map[string]map[string]string{}
	for _, p := range paks {
		loc := strings.TrimSuffix(filepath.Base(p), ".pak")
		if strings.Contains(loc, "_") {
			continue
		}
		ids, err := ReadPakInfo(p + ".info")
		if err != nil {
			return nil, err
		}
		res, err := ReadPak(p)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, name := range names {
			id, ok := ids[name]
			if !ok {
				continue
			}
			if s, ok := res[id]; ok {
				m[name] = string(s)
			}
		}
		out[loc] = m
	}
	return out, nil
}
