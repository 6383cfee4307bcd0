package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
	"github.com/gatewatch/gatewatch/internal/probe"
)

// Monitor is what the collector reads of a monitor: [monitor.Monitor] is one.
type Monitor interface {
	Status(site string) monitor.SiteStatus
	Counters() monitor.Counters
}

// Recorder is what the collector reads of the event recorder:
// [incident.Recorder] is one.
type Recorder interface {
	Stats() incident.RecorderStats
}

// Sources are where a [Collector] reads its figures.
type Sources struct {
	// Current returns the sites of the config now serving and the monitor
	// that checks them; a reload replaces both, so it is called per scrape.
	Current func() (sites []string, mon Monitor)
	// Recorder is the process's event recorder.
	Recorder Recorder
	// CloseErrors counts failed store writes of incident closing
	// ([incident.Closing.Errors]); nil publishes 0.
	CloseErrors func() int64
}

// Collector is a prometheus.Collector of the gatewatch_* state metrics.
type Collector struct {
	src Sources

	up, checkSeconds, probesRun, probesSuppressed, probeFailures                           *prometheus.Desc
	recorded, written, countOnly, dropped, shed, failed, writeErrors, queued, writeSeconds *prometheus.Desc
	closeErrors                                                                            *prometheus.Desc
}

// NewCollector reads src at every scrape.
func NewCollector(src Sources) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gatewatch_"+name, help, labels, nil)
	}
	return &Collector{
		src:              src,
		up:               d("upstream_up", "1 when the upstream's latest check passed.", "site", "upstream"),
		checkSeconds:     d("upstream_check_duration_seconds", "Duration of the upstream's latest check.", "site", "upstream", "class"),
		probesRun:        d("probes_total", "Checks of upstreams started."),
		probesSuppressed: d("probes_suppressed_total", "Requests for a check that started none (gate or single-flight)."),
		probeFailures:    d("probe_failures_total", "Completed checks that failed, by class.", "class"),
		recorded:         d("events_recorded_total", "Error-page events counted (in memory, then in the store)."),
		written:          d("events_written_total", "Events counted in the store."),
		countOnly:        d("events_count_only_total", "Events counted in their incident without a row of their own (event_rows_per_second)."),
		dropped:          d("events_dropped_total", "Events whose row was dropped because the row queue was full (still counted), or recorded after shutdown."),
		shed:             d("events_shed_total", "Events counted without a row because the row queue was three quarters full (part of events_count_only_total)."),
		failed:           d("events_failed_total", "Event rows lost to store errors (counts are retried)."),
		writeErrors:      d("store_write_errors_total", "Batch writes the store refused or that timed out (their rows are lost, their counts go into the next write)."),
		queued:           d("events_queued", "Event rows waiting to be written."),
		writeSeconds:     d("store_write_duration_seconds", "Duration of the latest batch write to the store."),
		closeErrors:      d("incident_close_errors_total", "Store writes that closing incidents or noting recoveries failed (retried at the next tick)."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.checkSeconds, c.probesRun, c.probesSuppressed, c.probeFailures,
		c.recorded, c.written, c.countOnly, c.dropped, c.shed, c.failed, c.writeErrors, c.queued, c.writeSeconds, c.closeErrors} {
		ch <- d
	}
}

// Collect reads the sources now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	sites, mon := c.src.Current()
	for _, site := range sites {
		for _, u := range mon.Status(site).Upstreams {
			up := 0.0
			if u.Up {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, site, u.Name)
			if u.Checks > 0 {
				ch <- prometheus.MustNewConstMetric(c.checkSeconds, prometheus.GaugeValue, u.Last.Duration.Seconds(), site, u.Name, string(u.Last.Class))
			}
		}
	}
	mc := mon.Counters()
	ch <- prometheus.MustNewConstMetric(c.probesRun, prometheus.CounterValue, float64(mc.ProbesRun))
	ch <- prometheus.MustNewConstMetric(c.probesSuppressed, prometheus.CounterValue, float64(mc.ProbesSuppressed))
	for _, class := range probe.Classes() {
		if class == probe.ClassOK {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.probeFailures, prometheus.CounterValue, float64(mc.FailuresByClass[class]), string(class))
	}
	rs := c.src.Recorder.Stats()
	ch <- prometheus.MustNewConstMetric(c.recorded, prometheus.CounterValue, float64(rs.Recorded))
	ch <- prometheus.MustNewConstMetric(c.written, prometheus.CounterValue, float64(rs.Written))
	ch <- prometheus.MustNewConstMetric(c.countOnly, prometheus.CounterValue, float64(rs.CountOnly))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(rs.Dropped))
	ch <- prometheus.MustNewConstMetric(c.shed, prometheus.CounterValue, float64(rs.Shed))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(rs.Failed))
	ch <- prometheus.MustNewConstMetric(c.writeErrors, prometheus.CounterValue, float64(rs.WriteErrors))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(rs.Queued))
	ch <- prometheus.MustNewConstMetric(c.writeSeconds, prometheus.GaugeValue, rs.LastWriteLatency.Seconds())
	var closeErrors int64
	if c.src.CloseErrors != nil {
		closeErrors = c.src.CloseErrors()
	}
	ch <- prometheus.MustNewConstMetric(c.closeErrors, prometheus.CounterValue, float64(closeErrors))
}
