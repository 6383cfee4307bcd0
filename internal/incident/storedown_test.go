package incident_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/pgtest"
)

// TestRecorderSurvivesPostgresDown stops PostgreSQL under a running
// recorder: pages must keep recording without waiting, the lost batches
// must be counted, and writes must resume when the server is back.
func TestRecorderSurvivesPostgresDown(t *testing.T) {
	cluster := pgtest.StartLocal(t)
	store := openStore(t, cluster.NewDatabase(t), "")
	r := startRecorder(t, store, incident.RecorderOptions{
		QueueSize: 64, BatchSize: 8, FlushInterval: 10 * time.Millisecond, WriteTimeout: 2 * time.Second,
	})

	recordN(t, r, "up", 8)
	waitFor(t, "writes while PostgreSQL is up", func() bool { return r.Stats().Written == 8 })

	cluster.Stop(t)
	down := time.Now()
	slowest := time.Duration(0)
	for i := 0; r.Stats().Failed == 0 || i < 200; i++ {
		start := time.Now()
		r.Record(ev("shop", "app", 0, fmt.Sprintf("down%d", i)))
		slowest = max(slowest, time.Since(start))
		if time.Since(down) > 20*time.Second {
			t.Fatalf("no failed write counted 20s after PostgreSQL stopped: %+v", r.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	// A Record that waited on the dead server would take its dial or
	// query timeout (seconds); a loaded machine under -race stretches a
	// map update to tens of milliseconds. The bound tells the two apart.
	if slowest > 2*time.Second {
		t.Errorf("slowest Record() while PostgreSQL was down took %v; want it not to wait for the store", slowest)
	}
	st := r.Stats()
	if st.Written != 8 || st.Failed == 0 {
		t.Errorf("Stats() while down = %+v; want 8 written and some failed", st)
	}
	if err := store.Ping(ctxT(t)); err == nil {
		t.Errorf("Ping() while PostgreSQL is down = nil; want an error")
	}

	t.Logf("PostgreSQL down: first failed batch after %v, slowest Record() %v, %+v",
		time.Since(down), slowest, st)

	cluster.StartAgain(t)
	up := time.Now()
	// The first batch may still meet a connection the restart broke; the
	// pool replaces it, so keep recording until one lands.
	before := r.Stats().Written
	for i := 0; r.Stats().Written == before; i++ {
		if i == 2000 {
			t.Fatalf("no write succeeded 10s after PostgreSQL restarted: %+v", r.Stats())
		}
		r.Record(ev("shop", "app", time.Second, fmt.Sprintf("back%d", i)))
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("PostgreSQL back: first successful write %v after restart", time.Since(up))
	// Let the recorder write what it still holds, so that its count and
	// the store's are read at rest.
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatalf("Close = %v", err)
	}
	open := true
	list, err := store.Incidents(ctxT(t), incident.Filter{Open: &open})
	if err != nil || len(list) != 1 {
		t.Fatalf("Incidents(open) after recovery = %d, %v; want 1", len(list), err)
	}
	if got, want := list[0].Requests, r.Stats().Written; got != want {
		t.Errorf("incident Requests = %d; want %d, the events the recorder wrote", got, want)
	}
	latest, err := store.EventsForIncident(ctxT(t), list[0].ID, 1)
	if err != nil || len(latest) != 1 || !strings.HasPrefix(latest[0].RequestID, "back") {
		t.Errorf("latest event after recovery = %+v, %v; want one recorded after the restart", latest, err)
	}
}
