package cause

import "testing"

func TestFromRequest(t *testing.T) {
	for _, tc := range []struct {
		r    Request
		want Class
		ok   bool
	}{
		{Request{}, Unknown, false},
		{Request{UpstreamAddr: "app_backend"}, NoLiveUpstreams, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "502", ConnectTime: "-"}, Refused, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "504", ConnectTime: "-"}, ConnectTimeout, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "504", ConnectTime: "0.001"}, ReadTimeout, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "502", ConnectTime: "0.001"}, PrematureClose, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "500", ConnectTime: "0.001"}, HTTP5xx, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "503", ConnectTime: "0.001", RetryAfter: true}, Maintenance, true},
		{Request{UpstreamAddr: "127.0.0.1:9", UpstreamStatus: "503", ConnectTime: "0.001"}, Unavailable, true},
		// The last try decides: a refused first server, then a 500.
		{Request{UpstreamAddr: "127.0.0.1:9, 127.0.0.1:10", UpstreamStatus: "502, 500", ConnectTime: "-, 0.002"}, HTTP5xx, true},
		{Request{UpstreamAddr: "127.0.0.1:10, 127.0.0.1:9", UpstreamStatus: "500, 502", ConnectTime: "0.002, -"}, Refused, true},
	} {
		got, ok := FromRequest(tc.r)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FromRequest(%+v) = %s, %v; want %s, %v", tc.r, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEveryClassHasKindAndCategory(t *testing.T) {
	for _, c := range Classes() {
		if c == Unknown || c == OK {
			continue
		}
		if c.Kind() == KindUnknown {
			t.Errorf("%s has no kind", c)
		}
		if c.Category() == CategoryUnknown {
			t.Errorf("%s has no admin category", c)
		}
		if Parse(string(c)) != c {
			t.Errorf("Parse(%q) = %s", c, Parse(string(c)))
		}
	}
	for old, want := range map[string]Class{"no_upstream": NoLiveUpstreams, "connect_failed": Refused, "dns": DNSFailure, "tls": TLSError, "upstream_error": HTTP5xx, "bogus": Unknown} {
		if got := Parse(old); got != want {
			t.Errorf("Parse(%q) = %s, want %s", old, got, want)
		}
	}
}
