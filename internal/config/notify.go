package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Notify configures who hears of incidents: every target gets one message
// when an incident opens, changes cause and closes. Targets come only
// from here; nothing a visitor sends reaches them.
type Notify struct {
	Webhooks []Webhook `toml:"webhook"`
	Slack    []Slack   `toml:"slack"`
	SMTP     SMTP      `toml:"smtp"`
	// Attempts is how often one message is tried per target before it
	// counts as failed; retries back off exponentially.
	Attempts int `toml:"attempts"`
	// Timeout bounds one delivery attempt.
	Timeout Duration `toml:"timeout"`
}

// Webhook is a generic JSON webhook. Each request carries
// X-Gatewatch-Signature: sha256=HEX, the HMAC-SHA256 of the body under
// Secret, so that the receiver can tell gatewatch from anyone else.
type Webhook struct {
	Name   string `toml:"name"`
	URL    string `toml:"url"`
	Secret string `toml:"secret"`
}

// Slack is a Slack-compatible incoming webhook (Slack, Mattermost,
// Rocket.Chat, Discord's /slack endpoint): a JSON body with "text".
type Slack struct {
	Name string `toml:"name"`
	URL  string `toml:"url"`
}

// SMTP sends e-mail; an empty Addr disables it. The connection is
// upgraded with STARTTLS when the server offers it, and credentials are
// only sent over TLS (or to localhost), as net/smtp insists.
type SMTP struct {
	Addr     string   `toml:"addr"` // host:port
	From     string   `toml:"from"`
	To       []string `toml:"to"`
	Username string   `toml:"username"`
	Password string   `toml:"password"`
}

// StatusPage is a status page whose JSON summary (the Atlassian
// Statuspage summary.json shape) is pulled on an interval; its current
// incidents and maintenances that concern Component show on the site's
// error pages as announcements.
type StatusPage struct {
	// URL is the summary, e.g. https://status.example.com/api/v2/summary.json.
	URL string `toml:"url"`
	// Component is the name or id of the component that stands for this
	// site (or Upstream); empty takes every incident and maintenance.
	Component string `toml:"component"`
	// Upstream, when set, limits the announcement to that upstream's pages.
	Upstream string `toml:"upstream"`
	// Interval is how often the summary is fetched.
	Interval Duration `toml:"interval"`
}

// Status page limits.
const (
	// MinStatusPageInterval keeps gatewatch a polite client of the page.
	MinStatusPageInterval = 10 * time.Second
	// DefaultStatusPageInterval applies when interval is not set.
	DefaultStatusPageInterval = time.Minute
)

func (c *Config) validateNotify(add func(key, format string, args ...any)) {
	n := c.Notify
	if n.Attempts < 1 || n.Attempts > 20 {
		add("notify.attempts", "must be between 1 and 20")
	}
	if n.Timeout.Duration <= 0 {
		add("notify.timeout", "must be positive")
	}
	targets := 0
	for i, w := range n.Webhooks {
		k := fmt.Sprintf("notify.webhook[%d]", i)
		if err := checkHTTPURL(w.URL); err != nil {
			add(k+".url", "%v", err)
		}
		if len(w.Secret) < 16 {
			add(k+".secret", "must be at least 16 characters: the receiver checks the signature with it")
		}
		targets++
	}
	for i, s := range n.Slack {
		if err := checkHTTPURL(s.URL); err != nil {
			add(fmt.Sprintf("notify.slack[%d].url", i), "%v", err)
		}
		targets++
	}
	if s := n.SMTP; s.Addr != "" || s.From != "" || len(s.To) > 0 {
		if _, port, err := net.SplitHostPort(s.Addr); err != nil || port == "" {
			add("notify.smtp.addr", "%q is not host:port", s.Addr)
		}
		if a, err := mail.ParseAddress(s.From); err != nil || a.Name != "" {
			add("notify.smtp.from", "%q is not a plain e-mail address", s.From)
		}
		if len(s.To) == 0 {
			add("notify.smtp.to", "must list at least one address")
		}
		for i, to := range s.To {
			if a, err := mail.ParseAddress(to); err != nil || a.Name != "" {
				add(fmt.Sprintf("notify.smtp.to[%d]", i), "%q is not a plain e-mail address", to)
			}
		}
		if (s.Username == "") != (s.Password == "") {
			add("notify.smtp.username", "username and password go together")
		}
		targets++
	}
	if targets > 0 && c.Server.AdminURL == "" {
		add("server.admin_url", "must be set when [notify] has targets: each message links the incident in the admin")
	}
}

func (c *Config) validateStatusPages(add func(key, format string, args ...any), i int, s *Site) {
	for j := range s.StatusPages {
		p := &s.StatusPages[j]
		k := fmt.Sprintf("site[%d].status_page[%d]", i, j)
		if err := checkHTTPURL(p.URL); err != nil {
			add(k+".url", "%v", err)
		} else if u, _ := url.Parse(p.URL); u.User != nil {
			add(k+".url", "must not carry credentials")
		}
		if p.Interval.Duration == 0 {
			p.Interval.Duration = DefaultStatusPageInterval
		}
		if p.Interval.Duration < MinStatusPageInterval {
			add(k+".interval", "must be at least %v", MinStatusPageInterval)
		}
		if len(p.Component) > 200 || strings.ContainsAny(p.Component, "\x00\r\n") {
			add(k+".component", "must be a component's name or id")
		}
		if p.Upstream != "" {
			found := false
			for _, u := range s.Upstreams {
				found = found || u.Name == p.Upstream
			}
			if !found {
				add(k+".upstream", "site %q has no upstream %q", s.Name, p.Upstream)
			}
		}
	}
}
