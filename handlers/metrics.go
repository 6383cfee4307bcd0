package handlers

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// PromMetrics is Metrics on Prometheus counters.
type PromMetrics struct {
	pages *prometheus.CounterVec
}

// NewMetrics registers gatewatch's public-listener metrics with reg.
func NewMetrics(reg prometheus.Registerer) *PromMetrics {
	m := &PromMetrics{
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewatch_pages_served_total",
			Help: "Error responses served, by site, status code, locale and format.",
		}, []string{"site", "code", "locale", "format"}),
	}
	reg.MustRegister(m.pages)
	return m
}

// PageServed counts one error response.
func (m *PromMetrics) PageServed(site string, code int, locale, format string) {
	m.pages.WithLabelValues(site, strconv.Itoa(code), locale, format).Inc()
}
