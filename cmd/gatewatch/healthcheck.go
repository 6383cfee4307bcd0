package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd asks the admin listener's /healthz, for a container's
// HEALTHCHECK where there is no curl: exit 0 when it answers 200.
func healthcheckCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	target := fs.String("url", "", "URL to ask (default: /healthz on the config's admin_listen)")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	u := *target
	if u == "" {
		cfg, err := loadConfig(*path, getenv)
		if err != nil {
			return configError(err)
		}
		host, port, err := net.SplitHostPort(cfg.Server.AdminListen)
		if err != nil {
			return exitError{2, fmt.Errorf("healthcheck: admin_listen %q: %w", cfg.Server.AdminListen, err)}
		}
		switch host {
		case "", "0.0.0.0":
			host = "127.0.0.1"
		case "::":
			host = "::1"
		}
		u = "http://" + net.JoinHostPort(host, port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return exitError{2, err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
