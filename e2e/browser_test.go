//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium, or fails saying how to get it.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("chromium not found: `make test` installs it (apt-get install chromium)")
	return ""
}

// newBrowser starts a headless Chromium for the test. The flags keep it
// from reaching for the network outside loopback.
func newBrowser(tb testing.TB) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(tb)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// flakyStack is the stack with an origin the test can bring back.
type flakyStack struct {
	nginx *nginxServer
	port  int
}

func startFlakyStack(t *testing.T) *flakyStack {
	t.Helper()
	flaky := freePort(t)
	gwPort := gatewatchPort(t)
	cfgPath := writeShopConfig(t, gwPort, flaky, "")
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatalf("gatewatch nginx: %v\n%s", err, include)
	}
	startGatewatch(t, cfgPath)
	ng := startNginx(t, include, nginxParams{DeadPort: freePort(t), LivePort: freePort(t), HangPort: freePort(t), FlakyPort: flaky})
	return &flakyStack{nginx: ng, port: flaky}
}

// bringBack starts the origin on its port.
func (s *flakyStack) bringBack(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>shop</title><p id=origin>welcome back</p>")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func TestBrowserPageReturnsVisitorWhenOriginIsBack(t *testing.T) {
	s := startFlakyStack(t)
	ctx := newBrowser(t)
	run, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	url := s.nginx.base + "/flaky/cart"
	if err := chromedp.Do(run, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// The monitor probes the dead origin within a check or two; the page
	// polls and shows it.
	if err := waitJS(run, `document.querySelector('[data-testid=verdict]')?.dataset.state === 'down_for_everyone'`, 30*time.Second); err != nil {
		state, _ := chromedp.Run(run, chromedp.Evaluate[string](`document.querySelector('[data-testid=verdict]')?.dataset.state || ''`))
		t.Fatalf("verdict never became down_for_everyone (last %q): %v", state, err)
	}
	s.bringBack(t)
	back := time.Now()
	if err := waitJS(run, `!!document.getElementById('origin')`, 45*time.Second); err != nil {
		t.Fatalf("page did not reload into the origin's content: %v", err)
	}
	t.Logf("page returned to the origin %v after it came back", time.Since(back).Round(100*time.Millisecond))
}

func TestBrowserVerdictWithoutJavaScript(t *testing.T) {
	s := startFlakyStack(t)
	ctx := newBrowser(t)
	run, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	noJS := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	// The monitor sees the origin down before the page is rendered.
	waitStatus(t, s.nginx.base, "down_for_everyone", func(st shopStatus) bool { return st.Verdict == "down_for_everyone" })
	if err := chromedp.Do(run, noJS, chromedp.Navigate(s.nginx.base+"/flaky/cart")); err != nil {
		t.Fatal(err)
	}
	answer, err := chromedp.Run(run, chromedp.Text(chromedp.CSS("[data-testid=verdict-answer]")))
	if err != nil {
		t.Fatal(err)
	}
	if answer != "Yes, it's down for everyone right now." {
		t.Errorf("verdict without JS = %q", answer)
	}
	steps, err := chromedp.Run(run, chromedp.Evaluate[int](`document.querySelectorAll('[data-step]').length`))
	if err != nil || steps != 6 {
		t.Errorf("steps without JS = %d (%v); want 6", steps, err)
	}
	ref, err := chromedp.Run(run, chromedp.Text(chromedp.CSS("[data-testid=ref-id]")))
	if err != nil || len(ref) != 32 {
		t.Errorf("reference without JS = %q (%v)", ref, err)
	}
}

// waitJS evaluates expr until it is true (poll). Unlike a polling
// action it survives the page navigating (reloading itself) meanwhile.
func waitJS(ctx context.Context, expr string, timeout time.Duration) error {
	var last error
	if poll(timeout, func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		last = err
		return err == nil && ok
	}) {
		return nil
	}
	return fmt.Errorf("%s not true after %v (last error: %v)", expr, timeout, last)
}

// TestBrowserShowsReferenceTimeInVisitorsZone: beside UTC, the script
// shows the reference time in the visitor's zone and language.
func TestBrowserShowsReferenceTimeInVisitorsZone(t *testing.T) {
	s := startFlakyStack(t)
	ctx := newBrowser(t)
	run, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tokyo := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	})
	if err := chromedp.Do(run, tokyo, chromedp.Navigate(s.nginx.base+"/flaky/cart?lang=de")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(run, `!!document.querySelector('[data-testid=ref-local]')`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	utc, err := chromedp.Run(run, chromedp.Evaluate[string](`document.querySelector('[data-utc]').dataset.utc`))
	if err != nil {
		t.Fatal(err)
	}
	local, err := chromedp.Run(run, chromedp.Evaluate[string](`document.querySelector('[data-testid=ref-local]').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, utc)
	if err != nil {
		t.Fatalf("data-utc %q: %v", utc, err)
	}
	want := at.In(time.FixedZone("JST", 9*3600)).Format("15:04:05")
	if !strings.Contains(local, want) {
		t.Errorf("local time %q does not show Tokyo's %s", local, want)
	}
}
