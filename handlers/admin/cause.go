package admin

import (
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// The admin steps of the seed documents, by stable id. Each has
// admin.step.{id}.title and .body messages.
const (
	stepLogs       = "logs"        // check server logs
	stepUpstream   = "upstream"    // check the upstream's status and logs
	stepNetwork    = "network"     // check network connectivity
	stepDNS        = "dns"         // check DNS
	stepConfig     = "config"      // check proxy and upstream configuration
	stepStatusPage = "status_page" // tell users on a status page
)

// checklistFor orders the admin steps for a cause: the check most likely
// to find the fault first. Every step stays on the list, because a cause
// derived from one probe or log line can be wrong, and telling users is
// always due; it comes early where the outage is likely to last (the
// upstream is down) and late where a quick fix is likely (a typo in DNS).
func checklistFor(c nginxlog.Category) []string {
	switch c {
	case nginxlog.CategoryOverload:
		// Alive but too slow: its load, then the limits and balancing.
		return []string{stepUpstream, stepLogs, stepConfig, stepStatusPage, stepNetwork, stepDNS}
	case nginxlog.CategoryNetwork:
		return []string{stepNetwork, stepUpstream, stepConfig, stepDNS, stepLogs, stepStatusPage}
	case nginxlog.CategoryUpstreamDown:
		// Nothing listens: is it running, why did it stop, say so.
		return []string{stepUpstream, stepLogs, stepStatusPage, stepConfig, stepNetwork, stepDNS}
	case nginxlog.CategoryFirewall:
		// A rule refuses the connection: the path first, then the
		// config that names the port.
		return []string{stepNetwork, stepConfig, stepLogs, stepUpstream, stepDNS, stepStatusPage}
	case nginxlog.CategoryMisconfiguration:
		return []string{stepConfig, stepLogs, stepUpstream, stepDNS, stepNetwork, stepStatusPage}
	case nginxlog.CategoryDNS:
		return []string{stepDNS, stepConfig, stepNetwork, stepUpstream, stepLogs, stepStatusPage}
	case nginxlog.CategoryAppError:
		// The process answered badly or died: its own logs say why.
		return []string{stepLogs, stepUpstream, stepConfig, stepStatusPage, stepNetwork, stepDNS}
	}
	return []string{stepLogs, stepUpstream, stepNetwork, stepDNS, stepConfig, stepStatusPage}
}

// causeCategory picks the admin cause of an incident. A probe's class
// decides when the probe saw the failure. Otherwise nginx's own log lines,
// when any matched, decide: they tell apart what the variables cannot (a
// refused connection from a firewall's permission denied, a reset from a
// timeout). The stored class is the fallback. All of them speak package
// cause's one vocabulary.
func causeCategory(c incident.Cause, logs []nginxlog.Entry) nginxlog.Category {
	if c.Source == incident.SourceProbe {
		return cause.Parse(c.Class).Category()
	}
	for i := len(logs) - 1; i >= 0; i-- {
		if cat := logs[i].Cause.Category(); cat != nginxlog.CategoryUnknown {
			return cat
		}
	}
	if c.Source == incident.SourceNginxLog && c.Evidence != "" {
		msg := c.Evidence
		if e, err := nginxlog.ParseLine(c.Evidence, time.UTC); err == nil {
			msg = e.Message
		}
		if cat := nginxlog.Classify(msg).Category(); cat != nginxlog.CategoryUnknown {
			return cat
		}
	}
	return cause.Parse(c.Class).Category()
}
