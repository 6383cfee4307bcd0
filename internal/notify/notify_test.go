package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/internal/config"
	"github.com/gatewatch/gatewatch/internal/incident"
	"github.com/gatewatch/gatewatch/internal/notify"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func msg(ev string) notify.Message {
	return notify.Message{Delivery: 7, Event: ev, At: t0, URL: "https://admin.example/admin/incidents/3",
		Incident: incident.Incident{ID: 3, Site: "shop", Upstream: "app", OpenedAt: t0, Requests: 5000, Visitors: 40,
			Cause: incident.Cause{Class: "connect_refused"}}}
}

type timeline struct {
	mu      sync.Mutex
	entries []incident.TimelineEntry
}

func (t *timeline) AddTimeline(_ context.Context, e incident.TimelineEntry) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries = append(t.entries, e)
	return nil
}

func (t *timeline) wait(tb testing.TB, n int) []incident.TimelineEntry {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		got := append([]incident.TimelineEntry(nil), t.entries...)
		t.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("timeline has fewer than %d entries", n)
	return nil
}

func start(t *testing.T, opts notify.Options) (*notify.Notifier, *timeline, *prometheus.Registry) {
	t.Helper()
	tl := &timeline{}
	reg := prometheus.NewRegistry()
	opts.Timeline, opts.Registerer = tl, reg
	opts.Backoff = func(int) time.Duration { return time.Millisecond }
	n, err := notify.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return n, tl, reg
}

func TestWebhookSignedAndRetried(t *testing.T) {
	secret := []byte("0123456789abcdef")
	var calls atomic.Int32
	var body []byte
	var sig, event string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ = io.ReadAll(r.Body)
		sig, event = r.Header.Get(notify.SignatureHeader), r.Header.Get("X-Gatewatch-Event")
	}))
	defer srv.Close()
	n, tl, reg := start(t, notify.Options{Targets: []notify.Target{
		&notify.Webhook{URL: srv.URL + "/hook", Secret: secret, Client: notify.NewHTTPClient(time.Second)}}})
	n.Enqueue(msg(notify.EventOpened))
	got := tl.wait(t, 1)
	if got[0].Kind != incident.KindNotified || got[0].IncidentID != 3 {
		t.Errorf("timeline = %+v; want a notified entry of incident 3", got)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d; want 2 (one 503, one retry)", calls.Load())
	}
	if !notify.Verify(secret, body, sig) || notify.Verify([]byte("wrong secret 0000"), body, sig) {
		t.Errorf("signature %q does not verify the body under the secret (only)", sig)
	}
	var p notify.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.Event != notify.EventOpened || event != notify.EventOpened ||
		p.Incident.ID != 3 || p.URL != "https://admin.example/admin/incidents/3" || p.Incident.Cause != "connect_refused" {
		t.Errorf("payload = %+v (%v), event header %q", p, err, event)
	}
	if v := counted(t, reg, "sent"); v != 1 {
		t.Errorf("sent = %v; want 1", v)
	}
}

func counted(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestPermanentFailureNotRetried(t *testing.T) {
	var calls atomic.Int32
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	n, tl, reg := start(t, notify.Options{Attempts: 4, Targets: []notify.Target{
		&notify.Slack{URL: srv.URL + "/services/SECRET", Client: notify.NewHTTPClient(time.Second)}}})
	n.Enqueue(msg(notify.EventClosed))
	got := tl.wait(t, 1)
	if got[0].Kind != incident.KindNotifyFailed || strings.Contains(got[0].Detail, "SECRET") {
		t.Errorf("timeline = %+v; want notify_failed without the URL's secret path", got)
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d; want 1: a 400 is not retried", calls.Load())
	}
	var s struct{ Text string }
	if json.Unmarshal(body, &s); !strings.Contains(s.Text, "Incident #3 closed: shop / app") || !strings.Contains(s.Text, "<https://admin.example/admin/incidents/3|") {
		t.Errorf("slack text = %q", s.Text)
	}
	if v := counted(t, reg, "failed"); v != 1 {
		t.Errorf("failed = %v; want 1", v)
	}
	if st := n.Stats(); len(st) != 1 || st[0].Failed != 1 || st[0].LastError == "" {
		t.Errorf("Stats = %+v; want one failure with its error", st)
	}
}

type blocked struct{ release chan struct{} }

func (b *blocked) Name() string { return "blocked" }
func (b *blocked) Send(ctx context.Context, _ notify.Message) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

func TestFullQueueDrops(t *testing.T) {
	b := &blocked{release: make(chan struct{})}
	n, _, _ := start(t, notify.Options{QueueSize: 2, Targets: []notify.Target{b}})
	for range 10 {
		n.Enqueue(msg(notify.EventOpened))
	}
	close(b.release)
	st := n.Stats()
	// One in flight at most, two queued: at least seven dropped.
	if st[0].Dropped < 7 {
		t.Errorf("Dropped = %d; want at least 7", st[0].Dropped)
	}
}

// fakeSMTP is the server side of one SMTP conversation.
func fakeSMTP(t *testing.T) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		say := func(s string) { io.WriteString(c, s+"\r\n") }
		say("220 fake ESMTP")
		var data strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 fake")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				data.WriteString(line)
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				got <- data.String()
				return
			default:
				say("502 no")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTP(t *testing.T) {
	addr, got := fakeSMTP(t)
	s := &notify.SMTP{Config: config.SMTP{Addr: addr, From: "gw@example.com", To: []string{"ops@example.com", "b@example.com"}}, Timeout: 5 * time.Second}
	if err := s.Send(context.Background(), msg(notify.EventOpened)); err != nil {
		t.Fatal(err)
	}
	mail := <-got
	for _, want := range []string{"MAIL FROM:<gw@example.com>", "RCPT TO:<b@example.com>",
		"Subject: [gatewatch] Incident #3 opened: shop / app", "Cause: connect_refused", "https://admin.example/admin/incidents/3"} {
		if !strings.Contains(mail, want) {
			t.Errorf("mail lacks %q:\n%s", want, mail)
		}
	}
}

type outbox struct {
	mu      sync.Mutex
	pending []incident.Notice
}

func (o *outbox) ClaimNotices(_ context.Context, limit int) ([]incident.Notice, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(limit, len(o.pending))
	out := o.pending[:n]
	o.pending = o.pending[n:]
	return out, nil
}

func (o *outbox) AddTimeline(context.Context, incident.TimelineEntry) error { return nil }

type recorder struct {
	mu  sync.Mutex
	got []notify.Message
}

func (r *recorder) Name() string { return "rec" }
func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

func TestPumpSendsEventsOnly(t *testing.T) {
	in := incident.Incident{ID: 9, Site: "shop"}
	ob := &outbox{pending: []incident.Notice{
		{Entry: incident.TimelineEntry{ID: 1, IncidentID: 9, Kind: incident.KindOpened}, Incident: in},
		{Entry: incident.TimelineEntry{ID: 2, IncidentID: 9, Kind: incident.KindNotified}, Incident: in},
		{Entry: incident.TimelineEntry{ID: 3, IncidentID: 9, Kind: incident.KindClosed}, Incident: in},
	}}
	rec := &recorder{}
	n, tl, _ := start(t, notify.Options{Targets: []notify.Target{rec}, AdminURL: "https://admin.example/"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Pump(ctx, ob, 10*time.Millisecond)
	tl.wait(t, 2)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 2 || rec.got[0].Event != notify.EventOpened || rec.got[1].Event != notify.EventClosed ||
		rec.got[0].URL != "https://admin.example/admin/incidents/9" {
		t.Errorf("sent %+v; want opened then closed, linked", rec.got)
	}
}
