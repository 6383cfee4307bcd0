//go:build e2e

package e2e

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestTraefikErrorsContract: no Traefik binary here, so the request its
// errors middleware makes is made as Traefik's documentation describes
// it: GET of the middleware's query ("/_gatewatch/error/{status}?url={url}",
// {url} the escaped original URL) on the error service, the visitor's
// headers copied (Host kept: passHostHeader). The status is the code in
// the path, whatever the visitor's copied headers say.
func TestTraefikErrorsContract(t *testing.T) {
	dead := freePort(t)
	cfgPath := writeShopConfig(t, gatewatchPort(t), dead, "")
	gw := startGatewatch(t, cfgPath)
	// The query the shipped Traefik config uses.
	dyn, err := os.ReadFile("../deploy/traefik/dynamic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`query: "([^"]+)"`).FindSubmatch(dyn)
	if m == nil {
		t.Fatal("deploy/traefik/dynamic.yaml has no errors query")
	}
	for _, code := range []string{"502", "503", "504"} {
		t.Run(code, func(t *testing.T) {
			query := strings.NewReplacer("{status}", code, "{url}", url.QueryEscape("/cart?x=1")).Replace(string(m[1]))
			resp, body := get(t, gw.public+query, map[string]string{
				"Accept": "text/html", "Accept-Language": "de-DE,de;q=0.9",
				"X-Forwarded-For": "203.0.113.9", "X-Real-Ip": "203.0.113.9", "X-Code": "418",
			})
			if fmt.Sprint(resp.StatusCode) != code {
				t.Fatalf("status = %d; want %s", resp.StatusCode, code)
			}
			d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(d.Find("[data-testid=headline]").Text()); got != headline(t, "de", code) {
				t.Errorf("headline = %q; want the German %s headline", got, code)
			}
			if id := resp.Header.Get("X-Request-ID"); id == "" || d.Find("[data-testid=ref-id]").Text() != id {
				t.Errorf("reference %q not on the page", id)
			}
		})
	}
}
