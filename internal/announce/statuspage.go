package announce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
)

// Status page fetch limits: a summary is a few kilobytes; anything much
// bigger or slower is not what the operator configured.
const (
	MaxSummaryBytes = 1 << 20
	FetchTimeout    = 10 * time.Second
	// upcoming is how far ahead a scheduled maintenance shows.
	upcoming = 24 * time.Hour
)

// StatusPage pulls one configured summary.json into a board.
type StatusPage struct {
	Site   string
	Page   config.StatusPage
	Board  *Board
	Client *http.Client // nil: NewClient
	Now    func() time.Time
	Logger *slog.Logger
}

// NewClient returns the client status pages are fetched with: bounded in
// time, following redirects only within the configured host.
func NewClient() *http.Client {
	return &http.Client{
		Timeout: FetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Host != via[0].URL.Host {
				return errors.New("status page: redirect away from the configured host refused")
			}
			return nil
		},
	}
}

// Key names the page's items on the board.
func (p *StatusPage) Key() string { return p.Site + "\x00" + p.Page.URL + "\x00" + p.Page.Upstream }

// Run fetches the page every interval until ctx ends. A failed fetch
// keeps what the page said last, for at most ten intervals.
func (p *StatusPage) Run(ctx context.Context) {
	interval := p.Page.Interval.Duration
	if interval <= 0 {
		interval = config.DefaultStatusPageInterval
	}
	var lastGood time.Time
	failing := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		items, err := p.Fetch(ctx)
		switch {
		case err == nil:
			lastGood, failing = p.Now(), false
			p.Board.SetExternal(p.Key(), items)
		case ctx.Err() != nil:
			return
		default:
			if !failing {
				p.Logger.Warn("status page: fetch failed", "site", p.Site, "url", p.Page.URL, "err", err)
			}
			failing = true
			if p.Now().Sub(lastGood) > 10*interval {
				p.Board.SetExternal(p.Key(), nil)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// summary is the part of a Statuspage summary.json gatewatch reads.
type summary struct {
	Incidents    []spIncident `json:"incidents"`
	Maintenances []spIncident `json:"scheduled_maintenances"`
}

type spIncident struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Status         string        `json:"status"`
	CreatedAt      time.Time     `json:"created_at"`
	ScheduledFor   *time.Time    `json:"scheduled_for"`
	ScheduledUntil *time.Time    `json:"scheduled_until"`
	Components     []spComponent `json:"components"`
	Updates        []spUpdate    `json:"incident_updates"`
}

type spComponent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type spUpdate struct {
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Fetch gets the summary once and returns the items it shows now.
func (p *StatusPage) Fetch(ctx context.Context) ([]Item, error) {
	client := p.Client
	if client == nil {
		client = NewClient()
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Page.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gatewatch status-page client")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status page answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSummaryBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxSummaryBytes {
		return nil, fmt.Errorf("status page summary is larger than %d bytes", MaxSummaryBytes)
	}
	var s summary
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("status page summary: %w", err)
	}
	return p.items(&s, p.Now()), nil
}

func (p *StatusPage) items(s *summary, now time.Time) []Item {
	var out []Item
	for _, in := range s.Incidents {
		if in.Status == "resolved" || in.Status == "postmortem" || !p.concerns(in) {
			continue
		}
		out = p.appendItem(out, in, in.CreatedAt, time.Time{})
	}
	for _, m := range s.Maintenances {
		if m.Status == "completed" || !p.concerns(m) {
			continue
		}
		start := m.CreatedAt
		if m.ScheduledFor != nil {
			start = *m.ScheduledFor
		}
		if m.Status == "scheduled" && start.After(now.Add(upcoming)) {
			continue
		}
		var until time.Time
		if m.ScheduledUntil != nil {
			until = *m.ScheduledUntil
		}
		out = p.appendItem(out, m, start, until)
	}
	return out
}

func (p *StatusPage) concerns(in spIncident) bool {
	want := strings.TrimSpace(p.Page.Component)
	if want == "" {
		return true
	}
	return slices.ContainsFunc(in.Components, func(c spComponent) bool {
		return c.ID == want || strings.EqualFold(strings.TrimSpace(c.Name), want)
	})
}

func (p *StatusPage) appendItem(out []Item, in spIncident, start, until time.Time) []Item {
	text := strings.TrimSpace(in.Name)
	if len(in.Updates) > 0 {
		latest := slices.MaxFunc(in.Updates, func(a, b spUpdate) int { return a.CreatedAt.Compare(b.CreatedAt) })
		if body := strings.TrimSpace(latest.Body); body != "" {
			text += ": " + body
		}
	}
	if r := []rune(text); len(r) > MaxRunes {
		text = string(r[:MaxRunes-1]) + "…"
	}
	text, err := Clean(text)
	if err != nil {
		return out
	}
	sum := sha256.Sum256([]byte(p.Page.URL + "\x00" + in.ID))
	return append(out, Item{
		ID: "sp-" + hex.EncodeToString(sum[:6]), Site: p.Site, Upstream: p.Page.Upstream, Text: text,
		Parts: Parts(text), Start: start.UTC(), Until: until.UTC(), Source: SourceStatusPage,
	})
}

// Pages makes the pollers of every site's status pages in cfg.
func Pages(cfg *config.Config, board *Board, now func() time.Time, logger *slog.Logger) []*StatusPage {
	var out []*StatusPage
	client := NewClient()
	for _, s := range cfg.Sites {
		for _, sp := range s.StatusPages {
			if _, err := url.Parse(sp.URL); err != nil {
				continue
			}
			out = append(out, &StatusPage{Site: s.Name, Page: sp, Board: board, Client: client, Now: now, Logger: logger})
		}
	}
	return out
}
