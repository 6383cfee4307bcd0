package public

import (
	"net/http"

	"github.com/gatewatch/gatewatch/handlers/httpx"
	"github.com/gatewatch/gatewatch/internal/config"
)

// ingressInfo is what ingress-nginx tells its custom default backend
// about the service a request failed on (X-Namespace, X-Ingress-Name,
// X-Service-Name, X-Service-Port). Like every proxy header, it is read
// only from trusted proxies.
type ingressInfo struct {
	Namespace, Ingress, Service, Port string
}

func readIngress(h http.Header) ingressInfo {
	in := ingressInfo{
		Namespace: httpx.HV(h, "X-Namespace"), Ingress: httpx.HV(h, "X-Ingress-Name"),
		Service: httpx.HV(h, "X-Service-Name"), Port: httpx.HV(h, "X-Service-Port"),
	}
	for _, v := range []*string{&in.Namespace, &in.Ingress, &in.Service, &in.Port} {
		if !validLabel(*v) {
			*v = ""
		}
	}
	if in.Namespace == "" || in.Service == "" {
		return ingressInfo{}
	}
	return in
}

// validLabel reports whether s is a Kubernetes name (a DNS label) or a
// port number or name.
func validLabel(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// siteFor picks the request's site, and the upstream when ingress-nginx
// named the service: the config's services entries, else an upstream
// named like the service in the Host's site.
func (d *publicDeps) siteFor(p *proxied) (*config.Site, string) {
	if p.Ingress.Service == "" {
		return d.cfg.SiteFor(p.Host), ""
	}
	site, u := d.cfg.ServiceFor(p.Host, p.Ingress.Namespace, p.Ingress.Service, p.Ingress.Port)
	if u == nil {
		return site, ""
	}
	return site, u.Name
}
