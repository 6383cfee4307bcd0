package config

import (
	_ "embed"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// DefaultSource names the embedded default in messages, where a file name
// would otherwise stand.
const DefaultSource = "(embedded default)"

//go:embed default.toml
var defaultTOML []byte

// Config is the whole of gatewatch's configuration.
type Config struct {
	Server  Server  `toml:"server"`
	Store   Store   `toml:"store"`
	Nginx   Nginx   `toml:"nginx"`
	Monitor Monitor `toml:"monitor"`
	Sites   []Site  `toml:"site"`
	Admin   Admin   `toml:"admin"`
	Notify  Notify  `toml:"notify"`

	// Source is the file this Config was read from, or DefaultSource.
	Source string `toml:"-"`
	// Dir is the directory relative paths in the file (logos) resolve
	// against: the file's directory, or the working directory.
	Dir string `toml:"-"`
}

// Server configures the listeners and what gatewatch trusts.
type Server struct {
	// Listen is the public listener, the target of nginx's error_page.
	Listen string `toml:"listen"`
	// AdminListen is the admin listener; empty disables it.
	AdminListen string `toml:"admin_listen"`
	// AdminURL is the admin listener's URL as staff reach it. When set, the
	// public page's reference links to AdminURL/admin/r/{id}.
	AdminURL string `toml:"admin_url"`
	// TrustedProxies lists the addresses (CIDR or IP) whose X-Code,
	// X-Upstream-* and X-Real-IP headers are believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	// DataDir holds the SQLite store and other state.
	DataDir string `toml:"data_dir"`
	// DefaultLocale is the language used when nothing the visitor sends
	// matches a supported one.
	DefaultLocale string `toml:"default_locale"`
	// MemoryLimit is the Go runtime's soft memory limit (GOMEMLIMIT, which
	// wins when set): the collector works harder as the heap nears it, so
	// that a storm of requests does not grow the process. 0 means none.
	MemoryLimit Size `toml:"memory_limit"`
	// Drain is how long gatewatch keeps serving after SIGTERM with /readyz
	// failing, so that load balancers move traffic away before the
	// listeners close. 0 closes them at once.
	Drain Duration `toml:"drain"`
}

// Store configures where events and incidents are kept.
type Store struct {
	// DSN is empty for SQLite in DataDir, or a postgres:// URL.
	DSN string `toml:"dsn"`
	// Retention is how long events and closed incidents are kept.
	Retention Duration `toml:"retention"`
	// EventRowsPerSecond caps the events stored with a row of their own;
	// the rest are counted in their incident and in the error series
	// without one, so that a storm neither fills the disk nor eats the CPU
	// while the counts stay exact. 0 keeps a row for every event.
	EventRowsPerSecond int `toml:"event_rows_per_second"`
}

// Nginx configures the integration with nginx.
type Nginx struct {
	// ErrorLog is nginx's error.log, followed for evidence; empty disables it.
	ErrorLog string `toml:"error_log"`
	// Pass is the URL nginx proxies to in the generated include; empty
	// derives it from Server.Listen.
	Pass string `toml:"pass"`
	// FallbackDir is where `gatewatch render` writes the pages nginx serves
	// when gatewatch itself does not answer; empty leaves the fallback out
	// of the generated include.
	FallbackDir string `toml:"fallback_dir"`
}

// Monitor configures the checks of upstreams.
type Monitor struct {
	Interval      Duration `toml:"interval"`
	DownInterval  Duration `toml:"down_interval"`
	MinInterval   Duration `toml:"min_interval"`
	Timeout       Duration `toml:"timeout"`
	SlowThreshold Duration `toml:"slow_threshold"`
	Window        Duration `toml:"window"`
	DownThreshold int      `toml:"down_threshold"`
	// QuietPeriod is how long an upstream must pass its checks before
	// its open incident closes: a flapping origin stays one incident.
	QuietPeriod Duration `toml:"quiet_period"`
}

// Site is one web site behind the proxy, recognised by its Host.
type Site struct {
	Name          string     `toml:"name"`
	Hosts         []string   `toml:"hosts"`
	DefaultLocale string     `toml:"default_locale"`
	Brand         Brand      `toml:"brand"`
	Contact       Contact    `toml:"contact"`
	Upstreams     []Upstream `toml:"upstream"`
	// StatusPages are pulled for announcements; see [StatusPage].
	StatusPages []StatusPage `toml:"status_page"`
}

// Brand is how a site's pages look.
type Brand struct {
	Title string `toml:"title"`
	// Logo is an SVG, PNG, JPEG or WebP file, relative to the config file.
	Logo   string `toml:"logo"`
	Colors Colors `toml:"colors"`
}

// Colors are CSS hex colors (#rgb or #rrggbb) for light and dark schemes.
type Colors struct {
	Primary     string `toml:"primary"`
	PrimaryDark string `toml:"primary_dark"`
}

// Contact is how visitors reach the site's administrator.
type Contact struct {
	Email string `toml:"email"`
	URL   string `toml:"url"`
}

// Upstream is one origin server of a site.
type Upstream struct {
	Name string `toml:"name"`
	// Check is the URL probed to tell whether the upstream is up.
	Check string `toml:"check"`
	// Addrs are the host:port addresses nginx may report for this upstream
	// in $upstream_addr; only these may be probed on nginx's word.
	Addrs []string `toml:"addrs"`
	// Services are the Kubernetes services ("NAMESPACE/NAME" or
	// "NAMESPACE/NAME:PORT") behind this upstream, as ingress-nginx names
	// them to its default backend (X-Namespace, X-Service-Name,
	// X-Service-Port): a match picks this site and upstream.
	Services []string `toml:"services"`
}

// ServiceFor finds the site and upstream of a Kubernetes service, as
// ingress-nginx names it; port may be empty. An upstream's entry without
// a port matches every port. Without a configured match, an upstream
// named like the service in the site for host is taken, by convention.
func (c *Config) ServiceFor(host, namespace, name, port string) (*Site, *Upstream) {
	full, bare := namespace+"/"+name+":"+port, namespace+"/"+name
	for i := range c.Sites {
		for j := range c.Sites[i].Upstreams {
			u := &c.Sites[i].Upstreams[j]
			for _, s := range u.Services {
				if s == bare || (port != "" && s == full) {
					return &c.Sites[i], u
				}
			}
		}
	}
	site := c.SiteFor(host)
	if site != nil {
		for j := range site.Upstreams {
			if site.Upstreams[j].Name == name {
				return site, &site.Upstreams[j]
			}
		}
	}
	return site, nil
}

// Admin configures who may open the admin pages.
type Admin struct {
	Users []User `toml:"user"`
	// AuthHeader, when set, names a header carrying the user name set by an
	// authenticating proxy; believed only from trusted proxies.
	AuthHeader string `toml:"auth_header"`
	// TrustedProxies lists the peers (CIDR or IP) whose X-Real-IP the admin
	// listener believes for its sign-in limits. Empty by default: a client
	// that could set it would pick a fresh address for every guess.
	TrustedProxies []string `toml:"trusted_proxies"`
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer TOKEN", outside the sign-in limits.
	MetricsToken string `toml:"metrics_token"`
}

// User is one admin login.
type User struct {
	Name         string `toml:"name"`
	PasswordHash string `toml:"password_hash"`
}

// Duration is a time.Duration written as "30s" or "5m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"5m\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}

// Size is a byte count written as GOMEMLIMIT is: "40MiB", "512KiB",
// "1GiB" or plain bytes.
type Size struct{ Bytes int64 }

var sizeUnits = []struct {
	suffix string
	n      int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}}

// UnmarshalText parses a size.
func (s *Size) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	num, unit := text, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(text, u.suffix) {
			num, unit = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/unit {
		return fmt.Errorf("%q is not a size such as \"40MiB\" or \"0\"", b)
	}
	s.Bytes = n * unit
	return nil
}

// MarshalText writes the size in the largest unit that divides it.
func (s Size) MarshalText() ([]byte, error) {
	for i := len(sizeUnits) - 2; i >= 0; i-- { // TiB down to KiB
		if u := sizeUnits[i]; s.Bytes != 0 && s.Bytes%u.n == 0 {
			return []byte(strconv.FormatInt(s.Bytes/u.n, 10) + u.suffix), nil
		}
	}
	return []byte(strconv.FormatInt(s.Bytes, 10)), nil
}

// SiteFor returns the site serving host (a Host header, port allowed):
// an exact match first, then a "*.example.com" wildcard, then the first
// site, which serves any host no site names.
func (c *Config) SiteFor(host string) *Site {
	host = normalizeHost(host)
	var wildcard *Site
	for i := range c.Sites {
		s := &c.Sites[i]
		for _, h := range s.Hosts {
			switch {
			case h == host:
				return s
			case wildcard == nil && strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]):
				wildcard = s
			}
		}
	}
	if wildcard != nil {
		return wildcard
	}
	if len(c.Sites) == 0 {
		return nil
	}
	return &c.Sites[0]
}

// Site returns the site called name, or nil.
func (c *Config) Site(name string) *Site {
	for i := range c.Sites {
		if c.Sites[i].Name == name {
			return &c.Sites[i]
		}
	}
	return nil
}

// PassURL is the URL nginx proxies to: Nginx.Pass, or http:// and the
// public listener with an unspecified host made loopback.
func (c *Config) PassURL() string {
	if c.Nginx.Pass != "" {
		return strings.TrimSuffix(c.Nginx.Pass, "/")
	}
	host, port, err := net.SplitHostPort(c.Server.Listen)
	if err != nil {
		return "http://" + c.Server.Listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func normalizeHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	// Only a host with a colon can have a port; SplitHostPort's error for
	// the others would cost an allocation on every page.
	if strings.Contains(host, ":") {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return host
}
