package nginxlog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// fixedZone stands for the nginx host's zone: not UTC, so a parser that
// ignored the Location would be caught.
var fixedZone = time.FixedZone("UTC+2", 2*60*60)

// realLine builds a line the way nginx's http module writes one.
func realLine(level string, conn, message string) string {
	return "2026/11/22 01:55:20 [" + level + "] 1234#1234: *" + conn + " " + message +
		`, client: 127.0.0.1, server: localhost, request: "GET /cart?x=1 HTTP/1.1", ` +
		`upstream: "http://127.0.0.1:9/cart?x=1", host: "shop.example", referrer: "http://shop.example/"`
}

func TestParseLineCauses(t *testing.T) {
	tests := []struct {
		message string
		cause   nginxlog.Cause
	}{
		{"connect() failed (111: Connection refused) while connecting to upstream", nginxlog.CauseRefused},
		{"upstream timed out (110: Connection timed out) while connecting to upstream", nginxlog.CauseConnectTimeout},
		{"upstream timed out (110: Connection timed out) while reading response header from upstream", nginxlog.CauseReadTimeout},
		{"no live upstreams while connecting to upstream", nginxlog.CauseNoLiveUpstreams},
		{"upstream prematurely closed connection while reading response header from upstream", nginxlog.CausePrematureClose},
		{"recv() failed (104: Connection reset by peer) while reading response header from upstream", nginxlog.CauseReset},
		{"NAME could not be resolved (3: Host not found)", nginxlog.CauseDNSFailure},
		{"backend.internal could not be resolved (3: Host not found)", nginxlog.CauseDNSFailure},
		{"SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream", nginxlog.CauseTLSError},
		{"upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream", nginxlog.CauseTLSVerify},
		{"upstream sent too big header while reading response header from upstream", nginxlog.CauseHeaderTooBig},
		{"upstream sent no valid HTTP/1.0 header while reading response header from upstream", nginxlog.CauseBadResponse},
	}
	for _, tt := range tests {
		t.Run(string(tt.cause)+"/"+tt.message, func(t *testing.T) {
			line := realLine("error", "17", tt.message)
			got, err := nginxlog.ParseLine(line, fixedZone)
			if err != nil {
				t.Fatalf("ParseLine(%q) error %v", line, err)
			}
			want := nginxlog.Entry{
				Time:     time.Date(2026, 11, 22, 1, 55, 20, 0, fixedZone),
				Level:    "error",
				PID:      1234,
				TID:      1234,
				Conn:     17,
				Message:  tt.message,
				Client:   "127.0.0.1",
				Server:   "localhost",
				Request:  "GET /cart?x=1 HTTP/1.1",
				Upstream: "http://127.0.0.1:9/cart?x=1",
				Host:     "shop.example",
				Referrer: "http://shop.example/",
				Cause:    tt.cause,
				Raw:      line,
			}
			checkEntry(t, line, got, want)
		})
	}
}

// checkEntry compares every field, naming each one that differs.
func checkEntry(t *testing.T, line string, got, want nginxlog.Entry) {
	t.Helper()
	if !got.Time.Equal(want.Time) || got.Time.Location() != want.Time.Location() {
		t.Errorf("ParseLine(%q).Time = %v; want %v", line, got.Time, want.Time)
	}
	fields := []struct {
		name      string
		got, want any
	}{
		{"Level", got.Level, want.Level},
		{"PID", got.PID, want.PID},
		{"TID", got.TID, want.TID},
		{"Conn", got.Conn, want.Conn},
		{"Message", got.Message, want.Message},
		{"Client", got.Client, want.Client},
		{"Server", got.Server, want.Server},
		{"Request", got.Request, want.Request},
		{"Upstream", got.Upstream, want.Upstream},
		{"Host", got.Host, want.Host},
		{"Referrer", got.Referrer, want.Referrer},
		{"Cause", got.Cause, want.Cause},
		{"Truncated", got.Truncated, want.Truncated},
		{"Raw", got.Raw, want.Raw},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("ParseLine(%q).%s = %#v; want %#v", line, f.name, f.got, f.want)
		}
	}
}

func TestParseLineShapes(t *testing.T) {
	at := time.Date(2026, 11, 22, 1, 55, 20, 0, time.UTC)
	tests := []struct {
		name string
		line string
		want nginxlog.Entry
	}{
		{
			name: "notice without connection",
			line: "2026/11/22 01:55:20 [notice] 12#12: signal process started",
			want: nginxlog.Entry{Time: at, Level: "notice", PID: 12, TID: 12,
				Message: "signal process started", Cause: nginxlog.CauseOther},
		},
		{
			name: "quotes inside the request",
			line: `2026/11/22 01:55:20 [error] 7#7: *3 no live upstreams while connecting to upstream, client: ::1, server: , ` +
				`request: "GET /q?s="a",b" HTTP/1.1", upstream: "http://backend/q?s="a",b"", host: "shop.example"`,
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Conn: 3,
				Message: "no live upstreams while connecting to upstream", Client: "::1",
				Request: `GET /q?s="a",b" HTTP/1.1`, Upstream: `http://backend/q?s="a",b"`, Host: "shop.example",
				Cause: nginxlog.CauseNoLiveUpstreams},
		},
		{
			name: "quotes and fake keys in the referrer",
			line: `2026/11/22 01:55:20 [error] 7#7: *3 upstream prematurely closed connection while reading response header from upstream, ` +
				`client: 10.0.0.1, server: shop, request: "GET / HTTP/1.1", upstream: "http://10.0.0.2:80/", host: "shop", ` +
				`referrer: "x", upstream: "http://evil/""`,
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Conn: 3,
				Message: "upstream prematurely closed connection while reading response header from upstream",
				Client:  "10.0.0.1", Server: "shop", Request: "GET / HTTP/1.1", Upstream: "http://10.0.0.2:80/",
				Host: "shop", Referrer: `x", upstream: "http://evil/"`, Cause: nginxlog.CausePrematureClose},
		},
		{
			name: "client text quoted in the message",
			line: `2026/11/22 01:55:20 [info] 7#7: *9 client sent invalid header line: "X: a, client: 1.1.1.1" ` +
				`while reading client request headers, client: 2.2.2.2, server: shop, request: "GET / HTTP/1.1"`,
			want: nginxlog.Entry{Time: at, Level: "info", PID: 7, TID: 7, Conn: 9,
				Message: `client sent invalid header line: "X: a, client: 1.1.1.1" while reading client request headers`,
				Client:  "2.2.2.2", Server: "shop", Request: "GET / HTTP/1.1", Cause: nginxlog.CauseOther},
		},
		{
			name: "cut by nginx inside the request",
			line: `2026/11/22 01:55:20 [error] 7#7: *9 upstream timed out (110: Connection timed out) while reading upstream, ` +
				`client: 2.2.2.2, server: shop, request: "GET /aaaaaaaa`,
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Conn: 9,
				Message: "upstream timed out (110: Connection timed out) while reading upstream",
				Client:  "2.2.2.2", Server: "shop", Request: "GET /aaaaaaaa", Cause: nginxlog.CauseReadTimeout,
				Truncated: true},
		},
		{
			name: "cut after the connection number",
			line: "2026/11/22 01:55:20 [error] 7#7: *9",
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Conn: 9, Cause: nginxlog.CauseOther},
		},
		{
			name: "cut after the pid",
			line: "2026/11/22 01:55:20 [error] 7#7:",
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Cause: nginxlog.CauseOther},
		},
		{
			name: "stream module context",
			line: `2026/11/22 01:55:20 [error] 7#7: *5 connect() failed (111: Connection refused) while connecting to upstream, ` +
				`client: 127.0.0.1, server: 0.0.0.0:9000, upstream: "127.0.0.1:9", bytes from/to client:0/0, bytes from/to upstream:0/0`,
			want: nginxlog.Entry{Time: at, Level: "error", PID: 7, TID: 7, Conn: 5,
				Message: "connect() failed (111: Connection refused) while connecting to upstream",
				Client:  "127.0.0.1", Server: "0.0.0.0:9000", Upstream: "127.0.0.1:9", Cause: nginxlog.CauseRefused},
		},
		{
			name: "subrequest and unix socket upstream, CRLF",
			line: `2026/11/22 01:55:20 [crit] 7#7: *5 connect() to unix:/run/php.sock failed (2: No such file or directory) while connecting to upstream, ` +
				`client: 127.0.0.1, server: shop, request: "GET /a HTTP/1.1", subrequest: "/auth", upstream: "fastcgi://unix:/run/php.sock:", host: "shop"` + "\r\n",
			want: nginxlog.Entry{Time: at, Level: "crit", PID: 7, TID: 7, Conn: 5,
				Message: "connect() to unix:/run/php.sock failed (2: No such file or directory) while connecting to upstream",
				Client:  "127.0.0.1", Server: "shop", Request: "GET /a HTTP/1.1", Upstream: "fastcgi://unix:/run/php.sock:",
				Host: "shop", Cause: nginxlog.CauseRefused},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nginxlog.ParseLine(tt.line, nil)
			if err != nil {
				t.Fatalf("ParseLine(%q) error %v", tt.line, err)
			}
			tt.want.Raw = strings.TrimSuffix(tt.line, "\r\n")
			checkEntry(t, tt.line, got, tt.want)
		})
	}
}

func TestParseLineMalformed(t *testing.T) {
	tests := []struct{ name, line string }{
		{"empty", ""},
		{"garbage", "hello world, this is not nginx at all"},
		{"short", "2026/11/22"},
		{"bad time", "2026/13/45 99:55:20 [error] 1#1: *1 x"},
		{"no level", "2026/11/22 01:55:20 error 1#1: *1 x"},
		{"unknown level", "2026/11/22 01:55:20 [fatal] 1#1: *1 x"},
		{"unclosed level", "2026/11/22 01:55:20 [error"},
		{"no pid", "2026/11/22 01:55:20 [error] *1 connect() failed"},
		{"signed pid", "2026/11/22 01:55:20 [error] -1#1: *1 x"},
		{"pid not a number", "2026/11/22 01:55:20 [error] ab#1: x"},
		{"tid overflow", "2026/11/22 01:55:20 [error] 1#99999999999999999999: x"},
		{"binary", "\x00\xff\xfe[error] 1#1: *1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nginxlog.ParseLine(tt.line, time.UTC)
			if !errors.Is(err, nginxlog.ErrMalformed) {
				t.Errorf("ParseLine(%q) = %+v, %v; want ErrMalformed", tt.line, got, err)
			}
		})
	}
}

// A "*" that is not a connection number stays in the message.
func TestParseLineOddConnection(t *testing.T) {
	tests := []struct {
		line    string
		conn    int64
		message string
	}{
		{"2026/11/22 01:55:20 [error] 1#1: *0 x", 0, "*0 x"},
		{"2026/11/22 01:55:20 [error] 1#1: *abc x", 0, "*abc x"},
		{"2026/11/22 01:55:20 [error] 1#1: *99999999999999999999 x", 0, "*99999999999999999999 x"},
		{"2026/11/22 01:55:20 [error] 1#1: *9223372036854775807 x", 9223372036854775807, "x"},
	}
	for _, tt := range tests {
		got, err := nginxlog.ParseLine(tt.line, time.UTC)
		if err != nil {
			t.Fatalf("ParseLine(%q) error %v", tt.line, err)
		}
		if got.Conn != tt.conn || got.Message != tt.message {
			t.Errorf("ParseLine(%q) = conn %d, message %q; want %d, %q", tt.line, got.Conn, got.Message, tt.conn, tt.message)
		}
	}
}

func TestUpstreamAddr(t *testing.T) {
	tests := []struct{ upstream, want string }{
		{"http://127.0.0.1:9/cart?x=1", "127.0.0.1:9"},
		{"https://[::1]:8443/", "[::1]:8443"},
		{"http://unix:/run/app.sock:/cart", "unix:/run/app.sock"},
		{"fastcgi://unix:/run/php.sock:", "unix:/run/php.sock"},
		{"fastcgi://127.0.0.1:9000", "127.0.0.1:9000"},
		{"127.0.0.1:9", "127.0.0.1:9"},
		{"http://backend/cart", "backend"},
		{"", ""},
	}
	for _, tt := range tests {
		got := nginxlog.Entry{Upstream: tt.upstream}.UpstreamAddr()
		if got != tt.want {
			t.Errorf("UpstreamAddr(%q) = %q; want %q", tt.upstream, got, tt.want)
		}
	}
}

func TestParseConn(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"17", 17, true},
		{" 17 ", 17, true},
		{"0", 0, false},
		{"", 0, false},
		{"-3", 0, false},
		{"+3", 0, false},
		{"*17", 0, false},
		{"1e3", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := nginxlog.ParseConn(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseConn(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
