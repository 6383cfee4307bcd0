package incident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// fakeCloser records the calls and fails while fail is set.
type fakeCloser struct {
	calls []string
	fail  bool
}

func (f *fakeCloser) RecordRecovery(_ context.Context, site, upstream string, at time.Time) error {
	f.calls = append(f.calls, fmt.Sprintf("recovered %s/%s %s", site, upstream, at.Format(time.TimeOnly)))
	if f.fail {
		return errors.New("store down")
	}
	return nil
}

func (f *fakeCloser) CloseIncidents(_ context.Context, site, upstream string, at time.Time) (int64, error) {
	f.calls = append(f.calls, fmt.Sprintf("close %s/%s %s", site, upstream, at.Format(time.TimeOnly)))
	if f.fail {
		return 0, errors.New("store down")
	}
	return 1, nil
}

func (f *fakeCloser) take() []string {
	c := f.calls
	f.calls = nil
	return c
}

func TestClosingPolicy(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := t0
	states := []incident.UpstreamState{
		{Site: "shop", Upstream: "app", Up: true, Since: t0},
		{Site: "shop", Upstream: "api", Up: false, Since: t0},         // down: nothing to close
		{Site: "shop", Upstream: "new", Up: true, Since: time.Time{}}, // never checked
	}
	store := &fakeCloser{}
	c := incident.NewClosing(store, incident.ClosingOptions{States: func() []incident.UpstreamState { return states },
		QuietPeriod: 2 * time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	for _, step := range []struct {
		after time.Duration
		want  []string
	}{
		{0, []string{"recovered shop/app 10:00:00"}},
		{time.Minute, []string{"recovered shop/app 10:00:00"}},
		// Quiet for the period: closed as of its end, recovery still noted
		// within one tick (30s, a quarter of 2m capped at 30s) after it.
		{2 * time.Minute, []string{"recovered shop/app 10:00:00", "close shop/app 10:02:00"}},
		{2*time.Minute + 30*time.Second, []string{"close shop/app 10:02:00"}},
		{time.Hour, []string{"close shop/app 10:02:00"}},
	} {
		now = t0.Add(step.after)
		c.Tick(context.Background())
		if got := store.take(); strings.Join(got, "; ") != strings.Join(step.want, "; ") {
			t.Errorf("after %v: calls = %q; want %q", step.after, got, step.want)
		}
	}
	if n := c.Errors(); n != 0 {
		t.Errorf("Errors() = %d; want 0", n)
	}
}

// A store that fails is logged and counted, and what failed is tried
// again at the next tick: the close because the upstream is still up,
// the recovery even when the next tick is past the window for noting it.
func TestClosingRetriesFailuresNextTick(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := t0.Add(2*time.Minute + 29*time.Second) // the last tick that notes the recovery
	states := []incident.UpstreamState{{Site: "shop", Upstream: "app", Up: true, Since: t0}}
	store := &fakeCloser{fail: true}
	var log bytes.Buffer
	c := incident.NewClosing(store, incident.ClosingOptions{States: func() []incident.UpstreamState { return states },
		QuietPeriod: 2 * time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(&log, nil))})

	c.Tick(context.Background())
	if got, want := store.take(), []string{"recovered shop/app 10:00:00", "close shop/app 10:02:00"}; strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("first tick: calls = %q; want %q", got, want)
	}
	if n := c.Errors(); n != 2 {
		t.Errorf("Errors() = %d; want 2", n)
	}
	for _, want := range []string{"record recovery failed", "close failed", "site=shop", "upstream=app", "store down"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}

	store.fail = false
	now = now.Add(30 * time.Second)
	c.Tick(context.Background())
	if got, want := store.take(), []string{"recovered shop/app 10:00:00", "close shop/app 10:02:00"}; strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("retry tick: calls = %q; want %q", got, want)
	}
	now = now.Add(30 * time.Second)
	c.Tick(context.Background())
	if got, want := store.take(), []string{"close shop/app 10:02:00"}; strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("after the retry succeeded: calls = %q; want %q", got, want)
	}
	if n := c.Errors(); n != 2 {
		t.Errorf("Errors() = %d after success; want still 2", n)
	}
}

// Against a real store: an incident whose upstream has been up for the
// quiet period is closed, with its recovery on the timeline.
func TestClosingClosesStoredIncident(t *testing.T) {
	ctx := ctxT(t)
	s := openStore(t, "", t.TempDir())
	seen := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	if err := s.AddEvents(ctx, []incident.Event{{Time: seen, Site: "shop", Upstream: "app", Code: 502, Path: "/", RequestID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	since := seen.Add(time.Minute)
	states := []incident.UpstreamState{{Site: "shop", Upstream: "app", Up: true, Since: since}}
	c := incident.NewClosing(s, incident.ClosingOptions{States: func() []incident.UpstreamState { return states },
		QuietPeriod: 2 * time.Minute, Every: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	c.Tick(ctx)
	list, err := s.Incidents(ctx, incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Open() {
		t.Fatalf("Incidents() = %+v; want one, closed", list)
	}
	if got, want := list[0].ClosedAt.UTC(), since.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("ClosedAt = %v; want %v", got, want)
	}
	tl, err := s.Timeline(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	if k := strings.Join(kinds, ","); !strings.Contains(k, "recovered") || !strings.Contains(k, "closed") {
		t.Errorf("timeline kinds = %q; want recovered and closed", k)
	}
	if n := c.Errors(); n != 0 {
		t.Errorf("Errors() = %d; want 0", n)
	}
}
