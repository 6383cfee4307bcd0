package public

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// PromMetrics is Metrics on Prometheus counters.
type PromMetrics struct {
	pages *prometheus.CounterVec
	// counters remembers each label set's counter: WithLabelValues hashes
	// the labels and formats the code on every call.
	mu       sync.RWMutex
	counters map[pageLabels]prometheus.Counter
}

type pageLabels struct {
	site           string
	code           int
	locale, format string
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
	k := pageLabels{site, code, locale, format}
	m.mu.RLock()
	c, ok := m.counters[k]
	m.mu.RUnlock()
	if !ok {
		c = m.pages.WithLabelValues(site, strconv.Itoa(code), locale, format)
		m.mu.Lock()
		if m.counters == nil {
			m.counters = map[pageLabels]prometheus.Counter{}
		}
		m.counters[k] = c
		m.mu.Unlock()
	}
	c.Inc()
}
