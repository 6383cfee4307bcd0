package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrainOnSIGTERM: SIGTERM fails /readyz at once, pages go on being
// served for server.drain, then the listeners close and run returns.
func TestDrainOnSIGTERM(t *testing.T) {
	const drain = time.Second
	path := filepath.Join(t.TempDir(), "gatewatch.toml")
	cfg := "[server]\ndrain = \"1s\"\n[[site]]\nname = \"shop\"\n[site.brand]\ntitle = \"Drain Shop\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--config", path)
	if code, _, _ := get(s.admin+"/readyz", nil); code != 200 {
		t.Fatalf("/readyz before SIGTERM = %d; want 200", code)
	}
	// Taken before the signal is sent: gatewatch's handler may run, and
	// start the drain's timer, before Kill returns (it failed once by
	// 0.17 ms when taken after).
	signalled := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s, "SIGTERM: draining", 1)
	if code, _, err := get(s.admin+"/readyz", nil); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, %v; want 503", code, err)
	}
	// Pages are served until the drain is over, then refused.
	var served int
	for {
		code, body, err := get(s.public+"/cart", nil)
		if err != nil {
			break
		}
		if code != 502 || !strings.Contains(body, "Drain Shop") {
			t.Fatalf("page while draining = %d; want the branded 502", code)
		}
		served++
		if time.Since(signalled) > 10*drain {
			t.Fatal("the listener is still open long after the drain")
		}
	}
	took := time.Since(signalled)
	if took < drain {
		t.Errorf("the listener closed %v after SIGTERM; want after the %v drain", took, drain)
	}
	if served == 0 {
		t.Error("no page served while draining")
	}
	waitLog(t, s, "drained; closing the listeners", 1)
	t.Logf("listener closed %v after SIGTERM; %d pages served while draining", took.Round(time.Millisecond), served)
}
