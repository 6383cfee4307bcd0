package public_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/handlers/public"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/static"
)

func TestDepsRequired(t *testing.T) {
	s := mustServer(t)
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New("en")
	if err != nil {
		t.Fatal(err)
	}
	full := public.Deps{Config: s.cfg, Catalog: cat, Assets: assets, Status: s.status, Events: s.events,
		Clock: fixedClock{testTime}, Metrics: public.NewMetrics(prometheus.NewRegistry()),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Board: s.board}
	if _, err := public.New(full); err != nil {
		t.Fatalf("New with every dependency = %v; want nil", err)
	}
	for _, tc := range []struct {
		field string
		clear func(*public.Deps)
	}{
		{"Config", func(d *public.Deps) { d.Config = nil }},
		{"Catalog", func(d *public.Deps) { d.Catalog = nil }},
		{"Assets", func(d *public.Deps) { d.Assets = nil }},
		{"Status", func(d *public.Deps) { d.Status = nil }},
		{"Events", func(d *public.Deps) { d.Events = nil }},
		{"Clock", func(d *public.Deps) { d.Clock = nil }},
		{"Metrics", func(d *public.Deps) { d.Metrics = nil }},
		{"Logger", func(d *public.Deps) { d.Logger = nil }},
		{"Board", func(d *public.Deps) { d.Board = nil }},
	} {
		d := full
		tc.clear(&d)
		if _, err := public.New(d); err == nil || !strings.Contains(err.Error(), "Deps."+tc.field) {
			t.Errorf("New without %s = %v; want an error naming it", tc.field, err)
		}
	}
}
