package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/gatewatch/gatewatch/internal/config"
)

// passField is one thing a proxy must tell gatewatch about a failed
// request, and how each proxy spells it. An empty spelling means that
// proxy has no such value; the header is then only stripped.
type passField struct {
	Header string
	// Caddy placeholders, HAProxy log-format expressions, Apache
	// RequestHeader expressions (mod_headers' %{…}e / %{…}s forms).
	Caddy, HAProxy, Apache string
}

// passFields is the one description of what a proxy passes with a failed
// request: the code it answered, the original request, its own request
// id, what it knows of the upstream, and the visitor's address. The nginx
// include spells the same list with nginx variables; the public handler
// believes these headers only from trusted_proxies, and every generated
// /_gatewatch/ pass-through strips them from visitors' requests.
var passFields = []passField{
	{Header: "X-Code", Caddy: "{err.status_code}", HAProxy: "", Apache: "%{REDIRECT_STATUS}e"},
	{Header: "X-Request-ID", Caddy: "{http.request.uuid}", HAProxy: "%[unique-id]", Apache: "%{REDIRECT_UNIQUE_ID}e"},
	{Header: "X-Original-URI", Caddy: "{http.request.uri}", HAProxy: "%[url]", Apache: ""},
	{Header: "X-Original-Method", Caddy: "{http.request.method}", HAProxy: "%[method]", Apache: ""},
	{Header: "X-Upstream-Addr", Caddy: "{http.vars.gw_upstream}", HAProxy: "", Apache: ""},
	{Header: "X-Upstream-Status", Caddy: "", HAProxy: "", Apache: ""},
	{Header: "X-Upstream-Connect-Time", Caddy: "", HAProxy: "", Apache: ""},
	{Header: "X-Upstream-Retry-After", Caddy: "", HAProxy: "", Apache: ""},
	{Header: "X-Nginx-Connection", Caddy: "", HAProxy: "", Apache: ""},
	// ingress-nginx's custom default backend headers: only the ingress
	// controller may send them.
	{Header: "X-Namespace"}, {Header: "X-Ingress-Name"}, {Header: "X-Service-Name"}, {Header: "X-Service-Port"},
}

// stripOnly lists the headers a proxy must delete from visitors' requests
// to /_gatewatch/: every passField, whether or not the proxy sets it.
func stripOnly() []string {
	out := make([]string, len(passFields))
	for i, f := range passFields {
		out[i] = f.Header
	}
	return out
}

// passHost is the host:port of gatewatch's public listener, as a proxy's
// upstream address; the config's pass URL must be plain http://host:port.
func passHost(cfg *config.Config, proxy string) (string, error) {
	u, err := url.Parse(cfg.PassURL())
	if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || strings.ContainsAny(u.Host, " ;{}\n\"'#") {
		return "", exitError{2, fmt.Errorf("%s: nginx.pass %q cannot go into a %s config: want http://HOST:PORT", cfg.Source, cfg.PassURL(), proxy)}
	}
	return u.Host, nil
}

// proxyOpts are a generator's inputs besides the config.
type proxyOpts struct {
	Host  string // gatewatch's public listener, host:port
	Pages string // HAProxy: the errorfiles' directory
}

// proxyCmd is the command line of `gatewatch caddy|haproxy|apache`.
func proxyCmd(name string, write func(io.Writer, *config.Config, proxyOpts) error) func([]string, func(string) string, io.Writer, io.Writer) error {
	return func(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		fs := newFlagSet(name, stderr)
		path := fs.String("config", "", "config file (default: the embedded default)")
		var o proxyOpts
		if name == "haproxy" {
			fs.StringVar(&o.Pages, "pages", "", "where `gatewatch render --format haproxy` wrote the errorfiles (default: nginx.fallback_dir, else /etc/haproxy/gatewatch)")
		}
		if err := fs.Parse(args); err != nil {
			return exitError{2, err}
		}
		cfg, err := loadConfig(*path, getenv)
		if err != nil {
			return configError(err)
		}
		if o.Host, err = passHost(cfg, name); err != nil {
			return err
		}
		return write(stdout, cfg, o)
	}
}
