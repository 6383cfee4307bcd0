package main

import (
	"context"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/monitor"
)

// crowdStore is the store as the monitor's crowd: instances sharing a
// PostgreSQL count each other's affected visitors.
type crowdStore struct{ store incident.Store }

func (c crowdStore) SyncCrowd(ctx context.Context, seen []monitor.CrowdMark, since, prune time.Time) ([]monitor.CrowdCount, error) {
	marks := make([]incident.CrowdMark, len(seen))
	for i, m := range seen {
		marks[i] = incident.CrowdMark(m)
	}
	counts, err := c.store.SyncCrowd(ctx, marks, since, prune)
	out := make([]monitor.CrowdCount, len(counts))
	for i, cc := range counts {
		out[i] = monitor.CrowdCount(cc)
	}
	return out, err
}

// The store caps the visitors of one address as the monitor does: this
// does not compile when the two differ.
const _ = uint(incident.CrowdPerIP-monitor.MaxPerIP) + uint(monitor.MaxPerIP-incident.CrowdPerIP)
