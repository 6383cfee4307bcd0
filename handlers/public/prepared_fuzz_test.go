package public

import (
	"bytes"
	"compress/gzip"
	"context"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/a-h/templ"
	"github.com/gatewatch/gatewatch/internal/announce"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident/record"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
	"github.com/gatewatch/gatewatch/static"
)

// The differential test of the prepared page: for any request values,
// the page served from its prepared form (chunks, marks, the hand
// escapers of prepared.go, the gzip splice) is byte for byte the page
// templ renders directly from a model holding those values, escaped by
// templ itself (and, for the hidden inputs, by html.EscapeString).

const diffConfig = `
[server]
listen = "127.0.0.1:0"
trusted_proxies = ["127.0.0.1/32"]
admin_url = "https://staff.example/"

[[site]]
name = "shop"
hosts = ["shop.example"]
[site.brand]
title = "Shop & Co <\"quoted\">"
[site.contact]
email = "help@shop.example"
url = "https://shop.example/contact"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:9/health"
addrs = ["127.0.0.1:9"]
`

type diffStatus struct{ view monitor.UpstreamView }

func (s diffStatus) Upstream(string, string) monitor.UpstreamView     { return s.view }
func (s diffStatus) Observe(string, monitor.Visit) (string, [16]byte) { return "app", [16]byte{} }
func (s diffStatus) VisitorKey(string, string) (k [16]byte)           { return k }
func (s diffStatus) Fresh(context.Context, string, string, time.Time) monitor.UpstreamView {
	return s.view
}

type diffRecorder struct{}

func (diffRecorder) Record(record.Event) bool { return true }

type diffClock struct{ t time.Time }

func (c *diffClock) Now() time.Time { return c.t }

type diffAnnouncements struct{}

func (diffAnnouncements) Announcements(context.Context, string, time.Time, int) ([]record.Announcement, error) {
	return nil, nil
}

func newDiffDeps(tb testing.TB, clock *diffClock) *publicDeps {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(path, []byte(diffConfig), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := locales.New("en")
	if err != nil {
		tb.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newPublicDeps(Deps{Config: cfg, Catalog: cat, Assets: assets,
		Status: diffStatus{monitor.UpstreamView{Probe: cause.ProbeDown, Class: cause.Refused, Affected: 3, Window: 5 * time.Minute,
			Started: clock.t.Add(-time.Minute), CheckedAt: clock.t.Add(-time.Second)}},
		Events: diffRecorder{}, Clock: clock, Metrics: NewMetrics(prometheus.NewRegistry()), Logger: logger,
		Board: announce.NewBoard(diffAnnouncements{}, clock.Now, logger)})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// diffRequest is the request as handleErrorPage builds it.
func diffRequest(d *publicDeps, r *http.Request) *request {
	p := readProxied(r, d.trust)
	site, pinned := d.siteFor(&p)
	q := &request{p: p, site: site, now: d.clock.Now(), langs: d.catalog.Languages(), pinned: pinned, upstream: pinned}
	q.lang = d.negotiate(r, site)
	q.tr = d.catalog.Translator(q.lang)
	q.unsafe = unsafeMethod(p.Method)
	if siteDown(p.Code) {
		d.judge(r.Context(), q)
	}
	return q
}

// keptParams is the failed URL's query as the language switcher keeps
// it, for pages.HiddenInputs, whose templ escaping is the reference for
// appendHiddenInputs.
func keptParams(query string) []pages.Param {
	var ps []pages.Param
	for _, pair := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		if len(ps) == maxKeptParams {
			break
		}
		name, value, _ := strings.Cut(pair, "=")
		name, value = unescapeQuery(name), unescapeQuery(value)
		if name == "lang" || name == "" {
			continue
		}
		ps = append(ps, pages.Param{Name: name, Value: value})
	}
	return ps
}

// direct renders q's page from a model that holds f's values themselves.
func direct(tb testing.TB, d *publicDeps, q *request, f *fill) []byte {
	tb.Helper()
	dq := *q
	dq.timeText = q.now.UTC().Format(refTimeLayout)
	dq.isoText = q.now.UTC().Format(time.RFC3339)
	dq.mailURL = strings.Join(f.mailURL[:], "")
	v := pageValues{
		retryAfter: strconv.Itoa(f.retryAfter), path: f.path, hidden: pages.HiddenInputs(keptParams(f.query)),
	}
	if f.announce != nil {
		v.announcement = templ.Raw(string(f.announce))
	}
	if siteDown(q.p.Code) {
		v.verdict = templ.Raw(string(f.verdict))
		v.statusURL = f.statusPrefix + string(appendStatusQuery(nil, f.kind, f.failedAt, f.appRetry))
	}
	var buf bytes.Buffer
	m := buildPage(&dq, v, d.assets, d.logos[q.site.Name], d.cfg.Server.AdminURL)
	if err := pages.ErrorPageView(m).Render(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-60)
	return "at byte " + strconv.Itoa(i) + ":\n prepared …" + strconv.Quote(string(a[lo:min(len(a), i+60)])) +
		"\n direct   …" + strconv.Quote(string(b[lo:min(len(b), i+60)]))
}

var diffCodes = []int{502, 503, 504, 500, 404, 429}

func FuzzPreparedEqualsDirect(f *testing.F) {
	f.Add("GET", "/cart?item=1&lang=de&q=<script>", "abc123", "shop.example", false, int64(1795253415000), uint8(0))
	f.Add("POST", "/checkout?a=%22quoted%22;b='x'&c=&amp;", "req-1.2_3@x", "", true, int64(0), uint8(1))
	f.Add("PUT", "/über/ pfad?x=%ZZ&y=a+b", "", "SHOP.EXAMPLE:8443", true, int64(-1), uint8(4))
	f.Add("DELETE", "//evil.example/x", "bad id!", "bad host/", false, int64(1e15), uint8(5))
	clock := &diffClock{}
	d := newDiffDeps(f, clock)
	f.Fuzz(func(t *testing.T, method, uri, refID, host string, https bool, ms int64, code uint8) {
		clock.t = time.UnixMilli(ms % (1 << 44)).UTC()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Host = host
		r.Header = http.Header{
			"X-Code":            {strconv.Itoa(diffCodes[int(code)%len(diffCodes)])},
			"X-Original-Uri":    {uri},
			"X-Original-Method": {method},
			"X-Request-Id":      {refID},
			"Accept":            {"text/html"},
		}
		if https {
			r.Header["X-Forwarded-Proto"] = []string{"https"}
		}
		q := diffRequest(d, r)
		pg, err := d.page(r.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		fl := d.fillFor(r.Context(), q)
		got := pg.appendPage(nil, &fl)
		want := direct(t, d, q, &fl)
		if !bytes.Equal(got, want) {
			t.Fatalf("prepared page != direct render for method %q uri %q ref %q host %q, %s", q.p.Method, q.p.URI, q.p.RequestID, q.p.Host, firstDiff(got, want))
		}
		// Spliced (no framing yet), then framed for these values' lengths.
		fr := newFramer()
		var vs values
		for _, framed := range []bool{false, true} {
			if framed {
				var n lengths
				for i := range pg.slots {
					n[i] = uint16(len(vs.at(i)))
					if v, _ := section(pg.slots[i], &fl); v != nil {
						n[i] = uint16(len(v))
					}
				}
				fr.cache.Add(framedKey{pg, n}, pg.frame(&n))
			}
			gz := pg.appendGzip(nil, &vs, &fl, fr)
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("gzip page (framed %v) does not decompress: %v", framed, err)
			}
			if !bytes.Equal(unzipped, got) {
				t.Fatalf("gzip page (framed %v) != page, %s", framed, firstDiff(unzipped, got))
			}
		}
	})
}

// FuzzMailEscapeIsQueryEscape holds the one mailto encoder to the
// standard library's: url.QueryEscape with spaces as %20 (RFC 6068).
func FuzzMailEscapeIsQueryEscape(f *testing.F) {
	for _, s := range []string{"", "a b+c", "Grüße & <ref> #1 100%", "line\nbreak\r\n", "\x00\x01\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if got := string(appendMailEscaped(nil, s)); got != want {
			t.Errorf("appendMailEscaped(%q) = %q; want %q", s, got, want)
		}
	})
}

// FuzzCRC32Combine holds the combined CRC to hash/crc32's over the whole.
func FuzzCRC32Combine(f *testing.F) {
	f.Add([]byte("hello, "), []byte("world"))
	f.Add([]byte{}, []byte("x"))
	f.Add(bytes.Repeat([]byte{0xff}, 70000), []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		if got := crc32combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), crc32shift(len(b))); got != want {
			t.Errorf("crc32combine of %d and %d bytes = %08x; want %08x", len(a), len(b), got, want)
		}
	})
}
