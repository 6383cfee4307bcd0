package static_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/static"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		ae   string
		want bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"br, GZIP", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0, *", false},
		{"*", true},
		{"identity", false},
		{"deflate, br", false},
		{"xgzip, gzipx", false},
		{",,, gzip ,", true},
	} {
		if got := static.AcceptsGzip(tc.ae); got != tc.want {
			t.Errorf("AcceptsGzip(%q) = %v; want %v", tc.ae, got, tc.want)
		}
	}
}

func TestAcceptsGzipAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { static.AcceptsGzip("deflate, gzip;q=0.8, br") }); n != 0 {
		t.Errorf("AcceptsGzip allocates %v times per call; want 0 (it runs for every page)", n)
	}
}
