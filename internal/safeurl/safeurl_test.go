package safeurl_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/internal/safeurl"
)

func TestIsLocal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"/", true},
		{"/cart", true},
		{"/a//b?x=1#f", true},
		{"/%2F%2Fevil.example", true},
		{"/caf\xc3\xa9", true},
		{"", false},
		{"cart", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		{"\\\\evil.example", false},
		{"/a\\b", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/ /x", false},
		{"/\x00", false},
		{"/\x7f", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{" /cart", false},
		{"/" + strings.Repeat("a", safeurl.MaxLen), false},
	} {
		if got := safeurl.IsLocal(tc.in); got != tc.want {
			t.Errorf("IsLocal(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
	if got := safeurl.Local("//evil", "/"); got != "/" {
		t.Errorf("Local(%q) = %q; want %q", "//evil", got, "/")
	}
}

// FuzzIsLocal: whatever IsLocal accepts, resolved against a page of the
// site as a browser resolves a link, stays on the site and its scheme.
func FuzzIsLocal(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/a?b", "/\t/x", "/%2e%2e/"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://site.example/page")
	f.Fuzz(func(t *testing.T, s string) {
		if !safeurl.IsLocal(s) {
			return
		}
		ref, err := url.Parse(s)
		if err != nil {
			return // a reference Go will not parse is no host either
		}
		if u := base.ResolveReference(ref); u.Scheme != "https" || u.Host != "site.example" || u.User != nil {
			t.Fatalf("IsLocal(%q) = true but it resolves to %s", s, u)
		}
	})
}
