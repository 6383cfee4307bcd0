package public

import (
	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/config"
)

// siteFor picks the request's site, and the upstream when ingress-nginx
// named the service: the config's services entries, else an upstream
// named like the service in the Host's site.
func (d *publicDeps) siteFor(p *proxied.Request) (*config.Site, string) {
	if p.Ingress.Service == "" {
		return d.cfg.SiteFor(p.Host), ""
	}
	site, u := d.cfg.ServiceFor(p.Host, p.Ingress.Namespace, p.Ingress.Service, p.Ingress.Port)
	if u == nil {
		return site, ""
	}
	return site, u.Name
}
