package browsernames_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/browsernames"
)

// writePak writes a version 5 .pak with the given resources and one
// alias (id 9 → the first resource).
func writePak(t *testing.T, path string, ids []uint16, texts []string) {
	t.Helper()
	le := binary.LittleEndian
	n := len(ids)
	head := make([]byte, 12+6*(n+1)+4)
	le.PutUint32(head, 5)
	head[4] = 1 // UTF-8
	le.PutUint16(head[8:], uint16(n))
	le.PutUint16(head[10:], 1)
	off := len(head)
	var data []byte
	for i, id := range ids {
		le.PutUint16(head[12+6*i:], id)
		le.PutUint32(head[12+6*i+2:], uint32(off+len(data)))
		data = append(data, texts[i]...)
	}
	le.PutUint32(head[12+6*n+2:], uint32(off+len(data)))
	le.PutUint16(head[12+6*(n+1):], 9)
	le.PutUint16(head[12+6*(n+1)+2:], 0)
	if err := os.WriteFile(path, append(head, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestChromium(t *testing.T) {
	dir := t.TempDir()
	writePak(t, filepath.Join(dir, "de.pak"), []uint16{3, 7}, []string{"Cookies und Websitedaten", "&Browserdaten löschen…"})
	os.WriteFile(filepath.Join(dir, "de.pak.info"), []byte("IDS_A,3,x.grd\nIDS_B,7,x.grd\nIDS_ALIAS,9,x.grd\n"), 0o644)
	writePak(t, filepath.Join(dir, "de_FEMININE.pak"), []uint16{3}, []string{"skip"})
	got, err := browsernames.Chromium(dir, []string{"IDS_A", "IDS_B", "IDS_ALIAS", "IDS_MISSING"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("locales = %v; want de only", got)
	}
	for k, want := range map[string]string{"IDS_A": "Cookies und Websitedaten", "IDS_B": "&Browserdaten löschen…", "IDS_ALIAS": "Cookies und Websitedaten"} {
		if got["de"][k] != want {
			t.Errorf("de %s = %q; want %q", k, got["de"][k], want)
		}
	}
	if _, err := browsernames.Chromium(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "chromium-l10n") {
		t.Errorf("empty dir: err = %v; want one naming chromium-l10n", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.pak"), []byte{5, 0, 0, 0, 1, 0, 0, 0, 200, 0, 0, 0}, 0o644)
	os.WriteFile(filepath.Join(dir, "bad.pak.info"), nil, 0o644)
	if _, err := browsernames.Chromium(dir, nil); err == nil {
		t.Error("truncated .pak: no error")
	}
}

func TestParseFTL(t *testing.T) {
	src := "# comment\nidentity-clear-site-data =\n    .label = Clear cookies and site data…\n    .accesskey = C\ntrustpanel-clear-cookies-button = Clear cookies and site data\nmulti =\n    first line\n"
	got, err := browsernames.ParseFTL(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"identity-clear-site-data.label":     "Clear cookies and site data…",
		"identity-clear-site-data.accesskey": "C",
		"trustpanel-clear-cookies-button":    "Clear cookies and site data",
	} {
		if got[k] != want {
			t.Errorf("%s = %q; want %q", k, got[k], want)
		}
	}
}
