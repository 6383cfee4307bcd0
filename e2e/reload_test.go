//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnHangup: SIGHUP with a bad file keeps the running config and
// logs FILE:LINE; with a good one the new brand shows, and no request in
// between fails.
func TestReloadOnHangup(t *testing.T) {
	dead := freePort(t)
	cfgPath := filepath.Join(t.TempDir(), "gatewatch.toml")
	write := func(title string) {
		t.Helper()
		writeFile(t, cfgPath, strings.Replace(shopConfig(freePort(t), dead), `title = "E2E Shop"`, fmt.Sprintf("title = %q", title), 1))
	}
	write("Before Shop")
	g := startGatewatchArgs(t, "serve", "--config", cfgPath, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data", t.TempDir())

	// page is called from the load's goroutines: it returns its error
	// instead of failing the test.
	page := func() (int, string, error) {
		req, _ := http.NewRequest("GET", g.public+"/cart", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	// Keep requests flowing through both reloads.
	var stop atomic.Bool
	var served, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				code, _, err := page()
				if err != nil || code != 502 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("code %d, err %v", code, err))
					continue
				}
				served.Add(1)
			}
		})
	}

	if err := os.WriteFile(cfgPath, []byte("[server]\nlisten = \"127.0.0.1:1\"\nbroken = = =\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, 10*time.Second, "the bad reload refused", func() bool { return strings.Contains(g.out.String(), "config reload refused") })
	if log := g.out.String(); !strings.Contains(log, cfgPath+":3:") {
		t.Errorf("refusal does not name %s:3; log:\n%s", cfgPath, log)
	}
	if _, body, _ := page(); !strings.Contains(body, "Before Shop") {
		t.Error("after a bad reload the page lost its brand")
	}

	write("After Shop")
	g.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, 10*time.Second, "the page shows the reloaded brand", func() bool {
		_, body, _ := page()
		return strings.Contains(body, "After Shop")
	})
	stop.Store(true)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", n, n+served.Load(), firstErr.Load())
	}
	t.Logf("%d requests served across two reloads", served.Load())
}
