package nginxlog_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

func FuzzParseLine(f *testing.F) {
	f.Add(realLine("error", "17", "connect() failed (111: Connection refused) while connecting to upstream"))
	f.Add("2026/11/22 01:55:20 [notice] 12#12: signal process started")
	f.Add(`2026/11/22 01:55:20 [error] 7#7: *3 x, client: ::1, server: , request: "GET /q?s="a",b" HTTP/1.1", upstream: "http://b/"`)
	f.Add(`2026/11/22 01:55:20 [info] 7#7: *9 bad: "X: a, client: 1.1.1.1" y, client: 2.2.2.2, server: s, request: "GET /a`)
	f.Add("2026/11/22 01:55:20 [error] 7#7: *9")
	f.Add("not a log line")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := nginxlog.ParseLine(line, time.UTC)
		if err != nil {
			return
		}
		if e.Conn < 0 || e.PID < 0 || e.TID < 0 {
			t.Errorf("ParseLine(%q) = conn %d pid %d tid %d; want non-negative", line, e.Conn, e.PID, e.TID)
		}
		if !strings.HasPrefix(line, e.Raw) {
			t.Errorf("ParseLine(%q).Raw = %q; want a prefix of the line", line, e.Raw)
		}
		for _, field := range []string{e.Message, e.Client, e.Server, e.Request, e.Upstream, e.Host, e.Referrer} {
			if !strings.Contains(e.Raw, field) {
				t.Errorf("ParseLine(%q) field %q is not part of the line", line, field)
			}
		}
		if got := nginxlog.Classify(e.Message); e.Cause != got {
			t.Errorf("ParseLine(%q).Cause = %q; want Classify(Message) = %q", line, e.Cause, got)
		}
		if cat := e.Cause.Category(); cat != nginxlog.CategoryUnknown && !slices.Contains(nginxlog.Categories(), cat) {
			t.Errorf("ParseLine(%q).Cause.Category() = %q; want one of %q or %q", line, cat, nginxlog.Categories(), nginxlog.CategoryUnknown)
		}
		if addr := e.UpstreamAddr(); !strings.Contains(e.Upstream, strings.TrimPrefix(addr, "unix:")) {
			t.Errorf("ParseLine(%q).UpstreamAddr() = %q; want a part of Upstream %q", line, addr, e.Upstream)
		}
	})
}
