package metrics_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/metrics"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

type fakeMonitor struct {
	status   map[string]monitor.SiteStatus
	counters monitor.Counters
}

func (f fakeMonitor) Status(site string) monitor.SiteStatus { return f.status[site] }
func (f fakeMonitor) Counters() monitor.Counters            { return f.counters }

type fakeRecorder incident.RecorderStats

func (f fakeRecorder) Stats() incident.RecorderStats { return incident.RecorderStats(f) }

func TestCollectorPublishesState(t *testing.T) {
	mon := fakeMonitor{
		status: map[string]monitor.SiteStatus{"shop": {Upstreams: []monitor.UpstreamStatus{
			{Name: "app", Up: false, Checks: 3, Last: probe.Result{Class: probe.ClassRefused, Duration: 250 * time.Millisecond}},
			{Name: "api", Up: true, Checks: 0}, // not checked yet: no duration
		}}},
		counters: monitor.Counters{ProbesRun: 7, ProbesSuppressed: 40, FailuresByClass: map[probe.Class]uint64{probe.ClassRefused: 3}},
	}
	rec := fakeRecorder{Recorded: 100, Written: 90, CountOnly: 20, Dropped: 4, Shed: 2, Failed: 1, WriteErrors: 1,
		Queued: 6, LastWriteLatency: 5 * time.Millisecond}
	c := metrics.NewCollector(metrics.Sources{
		Current:     func() ([]string, metrics.Monitor) { return []string{"shop"}, mon },
		Recorder:    rec,
		CloseErrors: func() int64 { return 2 },
	})
	got := gather(t, c)
	want := []string{
		`gatewatch_upstream_up{site="shop",upstream="api"} 1`,
		`gatewatch_upstream_up{site="shop",upstream="app"} 0`,
		`gatewatch_upstream_check_duration_seconds{class="refused",site="shop",upstream="app"} 0.25`,
		`gatewatch_probes_total 7`,
		`gatewatch_probes_suppressed_total 40`,
		`gatewatch_events_recorded_total 100`,
		`gatewatch_events_written_total 90`,
		`gatewatch_events_count_only_total 20`,
		`gatewatch_events_dropped_total 4`,
		`gatewatch_events_shed_total 2`,
		`gatewatch_events_failed_total 1`,
		`gatewatch_store_write_errors_total 1`,
		`gatewatch_events_queued 6`,
		`gatewatch_store_write_duration_seconds 0.005`,
		`gatewatch_incident_close_errors_total 2`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("scrape lacks %s; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
	for _, g := range got {
		if strings.HasPrefix(g, "gatewatch_upstream_check_duration_seconds") && strings.Contains(g, `upstream="api"`) {
			t.Errorf("scrape has %s; an upstream never checked has no duration", g)
		}
	}
}

// gather scrapes c through a pedantic registry (which checks the
// descriptions against the metrics) as `name{labels} value` lines.
func gather(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", f.GetName())
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			line := f.GetName()
			if len(labels) > 0 {
				line += "{" + strings.Join(labels, ",") + "}"
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out = append(out, fmt.Sprintf("%s %s", line, strconv.FormatFloat(v, 'g', -1, 64)))
		}
	}
	return out
}

// Every probe failure class is published, at 0 when none happened, and
// ok is not a failure.
func TestCollectorProbeFailuresByClass(t *testing.T) {
	mon := fakeMonitor{counters: monitor.Counters{FailuresByClass: map[probe.Class]uint64{probe.ClassSlow: 5}}}
	c := metrics.NewCollector(metrics.Sources{
		Current:  func() ([]string, metrics.Monitor) { return nil, mon },
		Recorder: fakeRecorder{},
	})
	var failures []string
	for _, line := range gather(t, c) {
		if strings.HasPrefix(line, "gatewatch_probe_failures_total") {
			failures = append(failures, line)
		}
	}
	if len(failures) != len(probe.Classes())-1 {
		t.Errorf("failure classes published = %q; want every class but ok (%d)", failures, len(probe.Classes())-1)
	}
	for _, line := range failures {
		if strings.Contains(line, fmt.Sprintf("class=%q", probe.ClassOK)) {
			t.Errorf("ok published as a failure class: %s", line)
		}
	}
	if want := fmt.Sprintf("gatewatch_probe_failures_total{class=%q} 5", probe.ClassSlow); !slices.Contains(failures, want) {
		t.Errorf("failures = %q; want %s", failures, want)
	}
}
