//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests share one Chromium for the package; each test opens
// its tabs in a browser context of its own, so that cookies, storage and
// cache never leak from one test into another.
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	dir    string
	err    error
}

// sharedBrowser returns the package's Chromium, started on first use and
// stopped by TestMain.
func sharedBrowser(tb testing.TB) context.Context {
	tb.Helper()
	path := chromiumPath(tb)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "gatewatch-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		actx, acancel := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
		)
		ctx, cancel := chromedp.NewContext(actx)
		shared.ctx = ctx
		shared.cancel = func() { cancel(); acancel() }
		shared.err = chromedp.Do(ctx)
	})
	if shared.err != nil {
		tb.Fatalf("start chromium: %v", shared.err)
	}
	return shared.ctx
}

// stopSharedBrowser ends the package's Chromium, if a test started it.
func stopSharedBrowser() {
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

// look is how a visitor's browser shows the page.
type look struct {
	name          string
	width, height int64
	scale         float64 // device pixels per CSS pixel; 0 is 1
	mobile        bool
	dark          bool
	reducedMotion bool
	noJS          bool
}

var (
	desktop = look{name: "desktop", width: 1280, height: 800}
	phone   = look{name: "phone", width: 320, height: 640, mobile: true}
)

func (l look) inDark() look    { l.dark, l.name = true, l.name+"-dark"; return l }
func (l look) withoutJS() look { l.noJS, l.name = true, l.name+"-nojs"; return l }

// apply sets the viewport, the media features and the script switch of
// the tab; they hold for the pages the tab loads afterwards.
func (l look) apply() chromedp.Action[chromedp.Void] {
	scheme, motion := "light", "no-preference"
	if l.dark {
		scheme = "dark"
	}
	if l.reducedMotion {
		motion = "reduce"
	}
	var opts []chromedp.EmulateViewportOption
	if l.scale > 0 {
		opts = append(opts, chromedp.EmulateScale(l.scale))
	}
	if l.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.Steps(
		chromedp.EmulateViewport(l.width, l.height, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
				{Name: "prefers-color-scheme", Value: scheme},
				{Name: "prefers-reduced-motion", Value: motion},
			}}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: l.noJS})
			return err
		}),
	)
}

// tab is one browser tab in a browser context of its own, with the log of
// every request it made.
type tab struct {
	ctx context.Context // limits the test's browser work

	mu        sync.Mutex
	requests  []*network.EventRequestWillBeSent
	responses map[network.RequestID]*network.Response
}

// openTab opens a tab of the shared browser in a fresh browser context.
// Every action through tab.ctx ends after timeout.
func openTab(t *testing.T, timeout time.Duration) *tab {
	t.Helper()
	tctx, cancel := chromedp.NewContext(sharedBrowser(t), chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tctx); err != nil {
		cancel()
		t.Fatalf("open tab: %v", err)
	}
	// The tab behaves as the focused window, as a visitor's would: the
	// clipboard and :focus-visible depend on it.
	if _, err := chromedp.Call(tctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		cancel()
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(tctx, timeout)
	t.Cleanup(func() { stop(); cancel() })
	tb := &tab{ctx: ctx, responses: map[network.RequestID]*network.Response{}}
	if err := chromedp.Listen(tctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, ev)
		case *network.EventResponseReceived:
			tb.responses[ev.RequestID] = ev.Response
		}
	}); err != nil {
		t.Fatal(err)
	}
	return tb
}

// sent is one request of the tab's log.
type sent struct {
	Method, URL string
	Type        network.ResourceType
	Status      int64 // 0 while no response has come
}

func (r sent) String() string {
	return fmt.Sprintf("%s %s (%s, %d)", r.Method, r.URL, r.Type, r.Status)
}

// requestLog returns each request the tab sent so far, in order. A
// redirect is a request of its own.
func (tb *tab) requestLog() []sent {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := make([]sent, len(tb.requests))
	for i, r := range tb.requests {
		out[i] = sent{Method: r.Request.Method, URL: r.Request.URL, Type: r.Type}
		if resp := tb.responses[r.RequestID]; resp != nil {
			out[i].Status = resp.Status
		}
		for _, next := range tb.requests[i+1:] {
			if next.RequestID == r.RequestID && next.RedirectResponse != nil {
				out[i].Status = next.RedirectResponse.Status
				break
			}
		}
	}
	return out
}

// load applies the look and opens the URL.
func (tb *tab) load(t *testing.T, l look, url string) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, l.apply(), chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s (%s): %v", url, l.name, err)
	}
}

// eval evaluates a script expression in the page and decodes its value.
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// pageStack is gatewatch behind nginx with a dead origin that the
// monitor has already seen down, so every page says "down for everyone".
type pageStack struct {
	base string // nginx
}

// pageURL is the address of a failed request for the visitor's language.
func (s *pageStack) pageURL(path, lang string) string {
	u := s.base + path
	if lang != "" {
		u += "?lang=" + url.QueryEscape(lang)
	}
	return u
}

// brand is what a site's owner puts on the page.
type brand struct {
	Title, Primary string
}

var e2eBrand = brand{Title: "E2E Shop", Primary: "#8a2be2"}

var pageConfig = template.Must(template.New("config").Parse(`
[server]
listen = "127.0.0.1:{{.Port}}"
trusted_proxies = ["127.0.0.1/32"]

[monitor]
interval = "1s"
down_interval = "1s"
min_interval = "200ms"
timeout = "1s"

[[site]]
name = "shop"
hosts = ["shop.test"]
[site.brand]
title = "{{.Title}}"
{{- if .Primary}}
[site.brand.colors]
primary = "{{.Primary}}"
{{- end}}
[site.contact]
email = "help@shop.test"
[[site.upstream]]
name = "app"
check = "http://127.0.0.1:{{.Dead}}/health"
addrs = ["127.0.0.1:{{.Dead}}"]
`))

// startPageStack runs gatewatch with the brand behind nginx, and waits
// until the status API says the site is down for everyone.
func startPageStack(t *testing.T, b brand) *pageStack {
	t.Helper()
	dead := freePort(t)
	gwPort := gatewatchPort(t)
	var cfg strings.Builder
	if err := pageConfig.Execute(&cfg, struct {
		brand
		Port, Dead int
	}{b, gwPort, dead}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	startGatewatch(t, cfgPath)
	ng := startNginx(t, include, nginxParams{DeadPort: dead, LivePort: freePort(t), HangPort: freePort(t)})
	s := &pageStack{base: ng.base}
	waitStatus(t, s.base, "down_for_everyone", func(st shopStatus) bool { return st.Verdict == "down_for_everyone" })
	return s
}

// violation is one axe-core rule the page breaks.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target         []any  `json:"target"`
		HTML           string `json:"html"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n      "))
	}
	return b.String()
}

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

// axeTags are the rules of WCAG 2.1 levels A and AA.
const axeTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]`

// auditAxe runs axe-core (e2e/node_modules, installed by make test) in the
// tab's page and returns the WCAG 2.1 AA violations it finds. The script
// is evaluated through DevTools, so the page's CSP does not stop it.
func auditAxe(t *testing.T, ctx context.Context) []violation {
	t.Helper()
	axeSource.once.Do(func() {
		b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
		axeSource.js, axeSource.err = string(b), err
	})
	if axeSource.err != nil {
		t.Fatalf("axe-core is missing: run make test (npm ci --prefix e2e): %v", axeSource.err)
	}
	// axe needs timers: a page loaded with scripts off gets them back
	// for the audit (its own script, skipped at load, stays skipped).
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource.js)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {runOnly: {type: "tag", values: `+axeTags+`}, resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	return out
}
