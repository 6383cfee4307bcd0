//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRollingRestartBehindNginx: two gatewatch instances in one nginx
// upstream (nginx.pass names it; proxy_next_upstream error timeout),
// visitors hitting a dead origin all along, and each instance in turn
// stopped with SIGTERM and started again on its port, the next one once
// nginx sends visitors to the restarted one again. Every visitor gets
// gatewatch's branded page: the one draining serves on while nginx still
// sends to it, and once its listener closes nginx's next try goes to the
// other.
func TestRollingRestartBehindNginx(t *testing.T) {
	runs := soakOr(2, 10)
	dead := freePort(t)
	ports := [2]int{gatewatchPort(t), gatewatchPort(t)}
	cfgPath := writeConfig(t, "[nginx]\npass = \"http://gatewatch_pool\"\n", ports[0], dead)
	include, err := runCLI(t, "nginx", "--config", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(include, "proxy_pass http://gatewatch_pool;") {
		t.Fatalf("the include does not proxy to the upstream:\n%s", include)
	}
	dataDirs := [2]string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	start := func(i int) *gatewatch {
		return startGatewatchArgs(t, "serve", "--config", cfgPath, "--listen", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--admin-listen", "127.0.0.1:0", "--data", dataDirs[i])
	}
	gws := [2]*gatewatch{start(0), start(1)}
	ngx := startNginx(t, include, nginxParams{DeadPort: dead, LivePort: dead, HangPort: dead,
		HTTPExtra: fmt.Sprintf("    upstream gatewatch_pool {\n        server 127.0.0.1:%d max_fails=1 fail_timeout=1s;\n        server 127.0.0.1:%d max_fails=1 fail_timeout=1s;\n    }\n", ports[0], ports[1]),
		Extra:     "        proxy_next_upstream error timeout;\n"})

	stop := make(chan struct{})
	loadDone := make(chan loadStats, 1)
	go func() {
		loadDone <- runLoad(loadOptions{url: ngx.base + "/dead/cart", host: "shop.test", headers: browserHeaders,
			conns: 8, d: 10 * time.Minute, stop: stop, want: gatewatchPage(http.StatusBadGateway)})
	}()
	restarts := 0
	for run := range runs {
		for i := range gws {
			time.Sleep(500 * time.Millisecond) // both serving for a while: elapsed time is the point
			g := gws[i]
			signalled := time.Now()
			g.cmd.Process.Signal(syscall.SIGTERM)
			waitReadyz(t, g, "draining", http.StatusServiceUnavailable, 5*time.Second)
			exited := make(chan error, 1)
			go func() { exited <- g.cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("run %d: instance %d exited with %v after SIGTERM", run, i, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("run %d: instance %d did not exit within 30 s of SIGTERM", run, i)
			}
			g.once.Do(func() {})
			if !strings.Contains(g.out.String(), "SIGTERM: draining") {
				t.Errorf("run %d: instance %d did not drain", run, i)
			}
			gws[i] = start(i)
			waitReadyz(t, gws[i], "restarted", http.StatusOK, 20*time.Second)
			// As an operator would: the next instance goes only once nginx
			// sends visitors to this one again (its fail_timeout is over).
			if !poll(20*time.Second, func() bool { return metrics(t, gws[i])["gatewatch_events_recorded_total"] > 0 }) {
				t.Fatalf("run %d: nginx sent no visitor to the restarted instance %d within 20 s", run, i)
			}
			restarts++
			t.Logf("run %d: instance %d stopped and ready again %v after SIGTERM", run, i, time.Since(signalled).Round(time.Millisecond))
		}
	}
	time.Sleep(500 * time.Millisecond) // load after the last restart too: elapsed time is the point
	close(stop)
	st := <-loadDone
	nonBranded := st.errors() + st.wrong
	t.Logf("%d rolling restarts (%d runs over both instances): %s; non-branded answers: %d", restarts, runs, st, nonBranded)
	if nonBranded != 0 {
		t.Errorf("%d visitors did not get the branded page across the rolling restarts (first: %s %s)", nonBranded, st.firstErr, st.firstWrong)
	}
	if st.requests == 0 {
		t.Error("no requests during the restarts")
	}
}
