package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
)

func TestNotifyAndStatusPages(t *testing.T) {
	cfg, err := config.Load(writeConfig(t, `[server]
admin_url = "https://admin.example"
[[notify.webhook]]
url = "https://hooks.example/gw"
secret = "0123456789abcdef"
[[notify.slack]]
url = "https://hooks.slack.example/T/B/X"
[notify.smtp]
addr = "smtp.example:587"
from = "gw@example.com"
to = ["ops@example.com"]
`+goodSite+`
[[site.status_page]]
url = "https://status.example/api/v2/summary.json"
component = "Blog"
`))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if got := len(cfg.Notify.Webhooks) + len(cfg.Notify.Slack); got != 2 {
		t.Errorf("webhook+slack targets = %d; want 2", got)
	}
	sp := cfg.Sites[1].StatusPages
	if len(sp) != 1 || sp[0].Interval.Duration != config.DefaultStatusPageInterval {
		t.Errorf("status pages = %+v; want one with the default interval", sp)
	}
	if cfg.Monitor.QuietPeriod.Duration != 2*time.Minute {
		t.Errorf("QuietPeriod = %v; want 2m", cfg.Monitor.QuietPeriod)
	}
}

func TestNotifyProblemsHaveLines(t *testing.T) {
	body := `[[notify.webhook]]
url = "ftp://hooks.example/gw"
secret = "short"
[notify.smtp]
addr = "smtp.example"
from = "Ops <gw@example.com>"
` + goodSite + `
[[site.status_page]]
url = "https://user:pw@status.example/summary.json"
interval = "1s"
upstream = "nope"
`
	path := writeConfig(t, body)
	_, err := config.Load(path)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v; want *config.Error", err)
	}
	got := ce.Error()
	for _, want := range []string{
		path + ":2: notify.webhook[0].url",
		path + ":3: notify.webhook[0].secret",
		path + ":5: notify.smtp.addr",
		path + ":6: notify.smtp.from",
		path + ":4: notify.smtp.to",
		"server.admin_url: must be set",
		":25: site[1].status_page[0].url: must not carry credentials",
		":26: site[1].status_page[0].interval",
		":27: site[1].status_page[0].upstream",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}
