//go:build e2e

package e2e

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// readyz is gatewatch's /readyz status, or 0 when it does not answer.
func readyz(gw *gatewatch) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(gw.admin + "/readyz")
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitReadyz waits until /readyz answers want.
func waitReadyz(t *testing.T, gw *gatewatch, what string, want int, within time.Duration) {
	t.Helper()
	var code int
	if !poll(within, func() bool { code = readyz(gw); return code == want }) {
		t.Fatalf("%s: /readyz = %d after %v; want %d\n%s", what, code, within, want, tail(gw.out.String(), 2048))
	}
}

// storeNotReady checks that /readyz fails while the store is broken,
// asked again and again, and that the log said so once since logFrom.
func storeNotReady(t *testing.T, gw *gatewatch, what string, logFrom, asks int) {
	t.Helper()
	waitReadyz(t, gw, what, http.StatusServiceUnavailable, 20*time.Second)
	for i := range asks {
		if code := readyz(gw); code != http.StatusServiceUnavailable {
			t.Errorf("%s: /readyz #%d while the store is broken = %d; want 503", what, i+1, code)
		}
	}
	if n := strings.Count(gw.out.String()[logFrom:], "store not ready"); n != 1 {
		t.Errorf("%s: 'store not ready' logged %d times over %d checks; want once\n%s", what, n, asks+1, tail(gw.out.String()[logFrom:], 2048))
	} else {
		t.Logf("%s: /readyz 503 on %d checks, logged once", what, asks+1)
	}
}

// TestReadinessDataDirDeleted: the data directory deleted under a running
// gatewatch. Queries still answer from the open, now nameless, file, and
// writes "succeed" into it, lost on restart: /readyz fails and says why
// in the log, once; the pages go on.
func TestReadinessDataDirDeleted(t *testing.T) {
	data := t.TempDir()
	gw := startGatewatchIn(t, writeConfig(t, "", gatewatchPort(t), freePort(t)), data)
	waitReadyz(t, gw, "before", http.StatusOK, 10*time.Second)
	logFrom := len(gw.out.String())
	// A connection the store opens meanwhile makes a new file in the
	// directory being removed ("directory not empty"): as an operator's
	// rm -rf would, try again.
	var err error
	for range 20 {
		if err = os.RemoveAll(data); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	markers(t, gw.public, "deleted", 5)
	storeNotReady(t, gw, "data dir deleted", logFrom, 10)
	if log := gw.out.String()[logFrom:]; !strings.Contains(log, "the database file is gone") {
		t.Errorf("the log does not say the file is gone:\n%s", tail(log, 2048))
	}
	// Recreating the directory does not bring the history back: the
	// instance stays unready until restarted on a good store.
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if code := readyz(gw); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a new, empty data directory = %d; want 503", code)
	}
}
