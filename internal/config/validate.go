package config

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/text/language"
)

// problem is a validation failure located by key path, such as
// "site[1].brand.colors.primary"; Parse turns the path into a line.
type problem struct {
	key string
	msg string
}

var (
	// Names go into URLs, metrics labels and file names.
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// Colors go into an inline style sheet: nothing but a hex color passes.
	colorRE = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	hostRE  = regexp.MustCompile(`^(?:\*\.)?[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$|^\[[0-9a-f:.]+\]$`)
)

// logoTypes are the image types a brand logo may be.
var logoTypes = map[string]bool{".svg": true, ".png": true, ".jpg": true, ".jpeg": true, ".webp": true}

// maxLogoBytes keeps the logo from blowing the page's first-round-trip budget.
const maxLogoBytes = 64 << 10

func (c *Config) validate() []problem {
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{key: key, msg: fmt.Sprintf(format, args...)})
	}

	if err := checkListen(c.Server.Listen); err != nil {
		add("server.listen", "%v", err)
	}
	if c.Server.AdminListen != "" {
		if err := checkListen(c.Server.AdminListen); err != nil {
			add("server.admin_listen", "%v", err)
		} else if c.Server.AdminListen == c.Server.Listen && !strings.HasSuffix(c.Server.Listen, ":0") {
			add("server.admin_listen", "must differ from server.listen: admin pages never share the public listener")
		}
	}
	if c.Server.AdminURL != "" {
		if err := checkHTTPURL(c.Server.AdminURL); err != nil {
			add("server.admin_url", "%v", err)
		}
	}
	for i, p := range c.Server.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or CIDR range", p)
		}
	}
	if c.Server.DataDir == "" {
		add("server.data_dir", "must not be empty")
	}
	if c.Server.DefaultLocale != "" {
		if _, err := language.Parse(c.Server.DefaultLocale); err != nil {
			add("server.default_locale", "%q is not a language tag such as \"en\" or \"pt-BR\"", c.Server.DefaultLocale)
		}
	}

	if dsn := c.Store.DSN; dsn != "" && !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		add("store.dsn", "must be empty (SQLite in data_dir) or a postgres:// URL")
	}
	if c.Store.Retention.Duration <= 0 {
		add("store.retention", "must be positive")
	}
	if c.Store.EventRowsPerSecond < 0 {
		add("store.event_rows_per_second", "must not be negative (0 keeps a row for every event)")
	}
	if c.Nginx.Pass != "" {
		if err := checkHTTPURL(c.Nginx.Pass); err != nil {
			add("nginx.pass", "%v", err)
		}
	}

	if d := c.Nginx.FallbackDir; d != "" && (!filepath.IsAbs(d) || strings.ContainsAny(d, " ;{}\"'$\n")) {
		add("nginx.fallback_dir", "%q must be an absolute path without spaces, quotes, ';', '{', '}' or '$': nginx reads it", d)
	}

	m := c.Monitor
	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"monitor.interval", m.Interval}, {"monitor.down_interval", m.DownInterval},
		{"monitor.min_interval", m.MinInterval}, {"monitor.timeout", m.Timeout},
		{"monitor.slow_threshold", m.SlowThreshold}, {"monitor.window", m.Window},
	} {
		if d.v.Duration <= 0 {
			add(d.key, "must be positive")
		}
	}
	if m.MinInterval.Duration > m.DownInterval.Duration && m.DownInterval.Duration > 0 {
		add("monitor.min_interval", "must not exceed monitor.down_interval")
	}
	if m.DownThreshold < 1 {
		add("monitor.down_threshold", "must be at least 1")
	}
	if m.QuietPeriod.Duration <= 0 {
		add("monitor.quiet_period", "must be positive")
	}
	c.validateNotify(add)

	if len(c.Sites) == 0 {
		add("site", "at least one [[site]] is required")
	}
	siteNames := map[string]bool{}
	hostOwner := map[string]string{}
	for i, s := range c.Sites {
		k := fmt.Sprintf("site[%d]", i)
		switch {
		case !nameRE.MatchString(s.Name):
			add(k+".name", "%q is not a valid site name (lowercase letters, digits, - and _)", s.Name)
		case siteNames[s.Name]:
			add(k+".name", "site %q is defined twice", s.Name)
		}
		siteNames[s.Name] = true
		for j, h := range s.Hosts {
			hk := fmt.Sprintf("%s.hosts[%d]", k, j)
			lh := strings.ToLower(h)
			if !hostRE.MatchString(lh) {
				add(hk, "%q is not a host name", h)
				continue
			}
			if other, dup := hostOwner[lh]; dup {
				add(hk, "host %q already belongs to site %q", h, other)
			}
			hostOwner[lh] = s.Name
			c.Sites[i].Hosts[j] = lh
		}
		if s.DefaultLocale != "" {
			if _, err := language.Parse(s.DefaultLocale); err != nil {
				add(k+".default_locale", "%q is not a language tag", s.DefaultLocale)
			}
		}
		if strings.TrimSpace(s.Brand.Title) == "" {
			add(k+".brand.title", "must not be empty: it is the page's heading")
		}
		for _, col := range []struct {
			key, v, scheme string
			against        []string // the colors drawn on it or under it
		}{
			{k + ".brand.colors.primary", s.Brand.Colors.Primary, "light", []string{PageColors.CardLight, PageColors.BgLight}},
			{k + ".brand.colors.primary_dark", s.Brand.Colors.PrimaryDark, "dark", []string{PageColors.CardDark, PageColors.BgDark}},
		} {
			if col.v != "" && !colorRE.MatchString(col.v) {
				add(col.key, "%q is not a hex color such as \"#1f5fbf\"", col.v)
				continue
			}
			// Buttons write the card's color on the brand color, links the
			// brand color on the card and the page: each must stay readable.
			if col.v != "" {
				if r, with := worstContrast(col.v, col.against...); r < MinTextContrast {
					add(col.key, "%q has a contrast of %.2f:1 with %s, the %s scheme's text on buttons and background under links; want at least %.1f:1 (WCAG 1.4.3)",
						col.v, math.Floor(r*100)/100, with, col.scheme, MinTextContrast)
				}
			}
		}
		if s.Brand.Logo != "" {
			if err := checkLogo(c.LogoPath(&c.Sites[i])); err != nil {
				add(k+".brand.logo", "%v", err)
			}
		}
		if e := s.Contact.Email; e != "" {
			if a, err := mail.ParseAddress(e); err != nil || a.Name != "" {
				add(k+".contact.email", "%q is not a plain e-mail address", e)
			}
		}
		if u := s.Contact.URL; u != "" {
			if err := checkHTTPURL(u); err != nil {
				add(k+".contact.url", "%v", err)
			}
		}
		c.validateStatusPages(add, i, &c.Sites[i])
		upNames := map[string]bool{}
		for j, u := range s.Upstreams {
			uk := fmt.Sprintf("%s.upstream[%d]", k, j)
			switch {
			case !nameRE.MatchString(u.Name):
				add(uk+".name", "%q is not a valid upstream name (lowercase letters, digits, - and _)", u.Name)
			case upNames[u.Name]:
				add(uk+".name", "upstream %q is defined twice in site %q", u.Name, s.Name)
			}
			upNames[u.Name] = true
			if u.Check != "" {
				if err := checkHTTPURL(u.Check); err != nil {
					add(uk+".check", "%v", err)
				}
			}
			for n, a := range u.Addrs {
				if _, _, err := net.SplitHostPort(a); err != nil {
					add(fmt.Sprintf("%s.addrs[%d]", uk, n), "%q is not host:port", a)
				}
			}
		}
	}

	users := map[string]bool{}
	for i, u := range c.Admin.Users {
		k := fmt.Sprintf("admin.user[%d]", i)
		switch {
		case strings.TrimSpace(u.Name) == "":
			add(k+".name", "must not be empty")
		case users[u.Name]:
			add(k+".name", "user %q is defined twice", u.Name)
		}
		users[u.Name] = true
		if !strings.HasPrefix(u.PasswordHash, "$2a$") && !strings.HasPrefix(u.PasswordHash, "$2b$") && !strings.HasPrefix(u.PasswordHash, "$2y$") {
			add(k+".password_hash", "is not a bcrypt hash; make one with `gatewatch hash-password`")
		}
	}
	return ps
}

// LogoPath is the file of site's logo, resolved against the config's
// directory.
func (c *Config) LogoPath(s *Site) string {
	if s.Brand.Logo == "" || filepath.IsAbs(s.Brand.Logo) {
		return s.Brand.Logo
	}
	return filepath.Join(c.Dir, s.Brand.Logo)
}

func checkLogo(path string) error {
	if !logoTypes[strings.ToLower(filepath.Ext(path))] {
		return fmt.Errorf("%q is not an SVG, PNG, JPEG or WebP file", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read logo: %v", err)
	}
	if fi.Size() > maxLogoBytes {
		return fmt.Errorf("logo %q is %d KiB; keep it under %d KiB so the page fits the first round trip", path, fi.Size()>>10, maxLogoBytes>>10)
	}
	return nil
}

func checkListen(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	return nil
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	return nil
}

// ParsePrefix parses a trusted-proxy entry: a CIDR range or a single IP.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
