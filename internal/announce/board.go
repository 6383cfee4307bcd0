package announce

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident/record"
)

// Sources of an Item.
const (
	SourceStaff      = "staff"
	SourceStatusPage = "status_page"
)

// Item is one announcement as pages show it.
type Item struct {
	ID       string // "42" for staff's, "sp-…" for a status page's
	Site     string
	Upstream string // "" for every page of the site
	Text     string
	Parts    []Part
	Lang     string    // language of Text; "" when unknown
	Start    time.Time // UTC
	Until    time.Time // UTC; zero when no end is known
	Source   string
}

// For reports whether the item shows on the pages of upstream ("" when
// the failed upstream is not known).
func (it Item) For(upstream string) bool { return it.Upstream == "" || it.Upstream == upstream }

func (it Item) equal(o Item) bool {
	return it.ID == o.ID && it.Site == o.Site && it.Upstream == o.Upstream && it.Text == o.Text &&
		it.Lang == o.Lang && it.Start.Equal(o.Start) && it.Until.Equal(o.Until) && it.Source == o.Source
}

// Snapshot is the announcements showing at one moment, per site, newest
// first. It is never modified once published.
type Snapshot struct {
	Version uint64
	bySite  map[string][]Item
}

// Site returns the items of site.
func (s *Snapshot) Site(site string) []Item {
	if s == nil {
		return nil
	}
	return s.bySite[site]
}

// Store is what the board reads staff announcements from;
// incident.Store satisfies it.
type Store interface {
	Announcements(ctx context.Context, site string, endAfter time.Time, limit int) ([]record.Announcement, error)
}

// Board holds the announcements showing now. The zero value is not
// usable; call NewBoard.
type Board struct {
	store  Store
	now    func() time.Time
	logger *slog.Logger

	cur atomic.Pointer[Snapshot]

	mu       sync.Mutex
	staff    []Item
	external map[string][]Item // by status page key
	failing  bool
}

// NewBoard returns a board reading store; now is the clock.
func NewBoard(store Store, now func() time.Time, logger *slog.Logger) *Board {
	b := &Board{store: store, now: now, logger: logger, external: map[string][]Item{}}
	b.cur.Store(&Snapshot{bySite: map[string][]Item{}})
	return b
}

// Current returns the latest snapshot; it never blocks.
func (b *Board) Current() *Snapshot { return b.cur.Load() }

// storeTimeout bounds one read of the store.
const storeTimeout = 5 * time.Second

// Refresh reads staff announcements from the store and republishes the
// snapshot if what shows has changed. On a store error the previous
// staff announcements stay.
func (b *Board) Refresh(ctx context.Context) error {
	now := b.now()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	list, err := b.store.Announcements(ctx, "", now, 1000)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		if !b.failing {
			b.logger.Warn("announcements: cannot read the store; showing the last ones read", "err", err)
		}
		b.failing = true
		b.publishLocked(now)
		return err
	}
	b.failing = false
	staff := make([]Item, 0, len(list))
	for _, a := range list {
		staff = append(staff, FromStore(a))
	}
	b.staff = staff
	b.publishLocked(now)
	return nil
}

// FromStore is the item of a stored announcement.
func FromStore(a record.Announcement) Item {
	return Item{ID: strconv.FormatInt(a.ID, 10), Site: a.Site, Upstream: a.Upstream, Text: a.Text,
		Parts: Parts(a.Text), Lang: a.Lang, Start: a.CreatedAt.UTC(), Until: a.End().UTC(), Source: SourceStaff}
}

// SetExternal replaces the items a status page (named by key) provides.
func (b *Board) SetExternal(key string, items []Item) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.external[key] = items
	b.publishLocked(b.now())
}

// publishLocked stores a new snapshot of what shows at now, with a new
// version only when that differs from the current one.
func (b *Board) publishLocked(now time.Time) {
	bySite := map[string][]Item{}
	add := func(it Item) {
		if now.Before(it.Start) && it.Source == SourceStaff {
			return
		}
		if !it.Until.IsZero() && !now.Before(it.Until) {
			return
		}
		bySite[it.Site] = append(bySite[it.Site], it)
	}
	for _, it := range b.staff {
		add(it)
	}
	for _, k := range slices.Sorted(maps.Keys(b.external)) {
		for _, it := range b.external[k] {
			add(it)
		}
	}
	for _, items := range bySite {
		slices.SortStableFunc(items, func(a, b Item) int {
			return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(a.ID, b.ID))
		})
	}
	old := b.cur.Load()
	if maps.EqualFunc(old.bySite, bySite, func(x, y []Item) bool { return slices.EqualFunc(x, y, Item.equal) }) {
		return
	}
	b.cur.Store(&Snapshot{Version: old.Version + 1, bySite: bySite})
}

// Run refreshes the board every interval until ctx ends; between store
// reads, an announcement whose end passes is dropped on the next tick.
func (b *Board) Run(ctx context.Context, interval time.Duration) {
	b.Refresh(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.Refresh(ctx)
		}
	}
}
