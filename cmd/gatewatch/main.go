// Command gatewatch serves branded, localized error pages for nginx's
// error_page, tells visitors live whether the site is down for everyone,
// and shows support staff why.
//
// Usage:
//
//	gatewatch [serve] [--config FILE] [--listen ADDR] [--admin-listen ADDR] [--data DIR]
//	gatewatch nginx|caddy|haproxy|apache --config FILE
//	gatewatch render --config FILE --out DIR [--format nginx|haproxy|envoy-gateway]
//	gatewatch healthcheck [--config FILE] [--url URL]
//	gatewatch check-config --config FILE
//	gatewatch hash-password < password
//	gatewatch version
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	// serve handles SIGTERM itself, draining first; SIGINT (Ctrl-C) stops
	// at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gatewatch:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
