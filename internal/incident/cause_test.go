package incident_test

import (
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/internal/incident"
)

func TestNginxVarCause(t *testing.T) {
	tests := []struct {
		name                 string
		addr, status, connct string
		want                 string // class; "" for no cause
	}{
		{"not proxied", "", "", "", ""},
		{"refused", "10.0.0.1:80", "502", "-", incident.ClassConnectFailed},
		{"connect timeout", "10.0.0.1:80", "504", "-", incident.ClassConnectTimeout},
		{"read timeout", "10.0.0.1:80", "504", "0.002", incident.ClassReadTimeout},
		{"bad response", "10.0.0.1:80", "502", "0.002", incident.ClassBadResponse},
		{"upstream 503", "10.0.0.1:80", "503", "0.002", string(cause.Unavailable)},
		{"upstream 500", "10.0.0.1:80", "500", "0.002", incident.ClassUpstreamError},
		{"no live upstreams", "backend", "", "", incident.ClassNoUpstream},
		{"retries: the last one counts", "10.0.0.1:80, 10.0.0.2:80", "502, 504", "-, 0.001", incident.ClassReadTimeout},
		{"internal redirect", "10.0.0.1:80 : 10.0.0.2:80", "504 : 502", "0.001 : -", incident.ClassConnectFailed},
		{"unix socket", "unix:/run/app.sock", "502", "-", incident.ClassConnectFailed},
		{"answered fine", "10.0.0.1:80", "200", "0.001", incident.ClassUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := incident.Event{UpstreamAddr: tt.addr, UpstreamStatus: tt.status, UpstreamConnectTime: tt.connct}
			c, ok := incident.NginxVarCause(e)
			if ok != (tt.want != "") || c.Class != tt.want {
				t.Errorf("NginxVarCause(%q, %q, %q) = %q, %v; want %q", tt.addr, tt.status, tt.connct, c.Class, ok, tt.want)
			}
			if ok && (c.Source != incident.SourceNginxVar || c.Detail == "" || c.Evidence == "") {
				t.Errorf("NginxVarCause(%q, %q, %q) = %+v; want source %q with detail and evidence",
					tt.addr, tt.status, tt.connct, c, incident.SourceNginxVar)
			}
		})
	}
}

func TestNginxLogCause(t *testing.T) {
	const prefix = "2026/03/01 12:00:00 [error] 31#31: *4711 "
	tests := []struct{ line, want string }{
		{"connect() failed (111: Connection refused) while connecting to upstream", incident.ClassConnectFailed},
		{"upstream timed out (110: Connection timed out) while connecting to upstream", incident.ClassConnectTimeout},
		{"upstream timed out (110: Connection timed out) while reading response header from upstream", incident.ClassReadTimeout},
		{"no live upstreams while connecting to upstream", incident.ClassNoUpstream},
		{"app.internal could not be resolved (3: Host not found)", incident.ClassDNS},
		{"SSL_do_handshake() failed (SSL: error:0A000086)", incident.ClassTLS},
		{"upstream prematurely closed connection while reading response header", incident.ClassBadResponse},
		{"something nginx has never said", incident.ClassUnknown},
	}
	for _, tt := range tests {
		c := incident.NginxLogCause(prefix + tt.line)
		if c.Class != tt.want || c.Source != incident.SourceNginxLog || c.Evidence != prefix+tt.line {
			t.Errorf("NginxLogCause(%q) = %+v; want class %q, source %q, the line as evidence", tt.line, c, tt.want, incident.SourceNginxLog)
		}
	}
}

func TestEventCausePrefersCallerThenVariablesThenLog(t *testing.T) {
	probe := incident.Cause{Source: incident.SourceProbe, Class: "dns"}
	vars := incident.Event{UpstreamAddr: "10.0.0.1:80", UpstreamStatus: "502", UpstreamConnectTime: "-",
		NginxLog: "upstream timed out (110: Connection timed out) while reading response header from upstream"}
	tests := []struct {
		name       string
		e          incident.Event
		wantSource string
		wantClass  string
	}{
		{"caller's cause", incident.Event{Cause: probe, UpstreamAddr: "10.0.0.1:80", UpstreamStatus: "502"}, incident.SourceProbe, "dns"},
		{"variables over log", vars, incident.SourceNginxVar, incident.ClassConnectFailed},
		{"log alone", incident.Event{NginxLog: vars.NginxLog}, incident.SourceNginxLog, incident.ClassReadTimeout},
		{"nothing", incident.Event{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := incident.EventCause(tt.e)
			if c.Source != tt.wantSource || c.Class != tt.wantClass {
				t.Errorf("EventCause() = %q/%q; want %q/%q", c.Source, c.Class, tt.wantSource, tt.wantClass)
			}
		})
	}
}

func TestFill(t *testing.T) {
	series := []incident.Bucket{{Start: t0.Add(time.Minute), N: 3}, {Start: t0.Add(3 * time.Minute), N: 1}, {Start: t0.Add(9 * time.Minute), N: 7}}
	got := incident.Fill(series, t0, t0.Add(4*time.Minute), time.Minute)
	want := []int64{0, 3, 0, 1}
	if len(got) != len(want) {
		t.Fatalf("len(Fill()) = %d; want %d", len(got), len(want))
	}
	for i, b := range got {
		if b.N != want[i] || !b.Start.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("Fill()[%d] = %+v; want {%v %d}", i, b, t0.Add(time.Duration(i)*time.Minute), want[i])
		}
	}
	if got := incident.Fill(series, t0, t0, time.Minute); got != nil {
		t.Errorf("Fill(empty range) = %v; want nil", got)
	}
}
