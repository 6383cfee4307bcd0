package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatewatch/gatewatch/handlers/admin"
)

// errDraining is /readyz's answer from the moment SIGTERM arrives.
var errDraining = errors.New("draining after SIGTERM")

// drainGate fails readiness while the instance drains, and asks next
// otherwise.
type drainGate struct {
	draining interface{ Load() bool }
	next     admin.Readiness
}

func (g drainGate) Check(ctx context.Context) error {
	if g.draining.Load() {
		return errDraining
	}
	return g.next.Check(ctx)
}

// watchTerm subscribes to SIGTERM, before the listeners open, so that it
// is drained for and never the default action (exit at once).
func watchTerm() chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	return c
}

// drain is the first part of a SIGTERM: /readyz fails at once, so that a
// load balancer stops sending new visitors, while pages go on being
// served for server.drain; keep-alive is turned off meanwhile (each
// answer closes its connection, idle ones close now), so that clients
// reconnect, elsewhere once the balancer has moved. Then Shutdown closes
// the listeners, the remaining idle connections, and waits for requests
// in flight. Cancelling ctx (SIGINT) cuts the drain short.
func (a *app) drain(ctx context.Context, servers []*namedServer) {
	a.draining.Store(true)
	d := a.current.Load().cfg.Server.Drain.Duration
	a.logger.Info("SIGTERM: draining; /readyz fails, pages are still served", "drain", d)
	for _, s := range servers {
		s.srv.SetKeepAlivesEnabled(false)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	a.logger.Info("drained; closing the listeners and finishing requests in flight")
}
