package trust_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/internal/trust"
)

func TestTrusted(t *testing.T) {
	p := trust.New([]string{"127.0.0.1/32", "10.0.0.0/8", "::1"})
	for _, tc := range []struct {
		remote string
		want   bool
	}{
		{"127.0.0.1:40000", true},
		{"127.0.0.2:40000", false},
		{"10.1.2.3:80", true},
		{"[::ffff:10.1.2.3]:80", true}, // IPv4-mapped, unmapped before matching
		{"[::1]:8080", true},
		{"192.0.2.1:1", false},
		{"10.1.2.3", true}, // a bare address
		{"not an address", false},
		{"", false},
	} {
		if got := p.Trusted(tc.remote); got != tc.want {
			t.Errorf("Trusted(%q) = %v; want %v", tc.remote, got, tc.want)
		}
	}
	if trust.New(nil).Trusted("127.0.0.1:1") {
		t.Error("an empty trusted_proxies trusts 127.0.0.1; want nobody")
	}
}
