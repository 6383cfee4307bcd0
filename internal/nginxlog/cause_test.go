package nginxlog_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		message string
		want    nginxlog.Cause
	}{
		// The exact texts.
		{"connect() failed (111: Connection refused) while connecting to upstream", nginxlog.CauseRefused},
		{"upstream timed out (110: Connection timed out) while connecting to upstream", nginxlog.CauseConnectTimeout},
		{"upstream timed out (110: Connection timed out) while reading response header from upstream", nginxlog.CauseReadTimeout},
		{"no live upstreams while connecting to upstream", nginxlog.CauseNoLiveUpstreams},
		{"upstream prematurely closed connection while reading response header from upstream", nginxlog.CausePrematureClose},
		{"recv() failed (104: Connection reset by peer) while reading response header from upstream", nginxlog.CauseReset},
		{"NAME could not be resolved (3: Host not found)", nginxlog.CauseDNSFailure},
		{"SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream", nginxlog.CauseTLSError},
		{"upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream", nginxlog.CauseTLSVerify},
		{"upstream sent too big header while reading response header from upstream", nginxlog.CauseHeaderTooBig},
		{"upstream sent no valid HTTP/1.0 header while reading response header from upstream", nginxlog.CauseBadResponse},

		// Variants nginx writes for the same failures.
		{"connect() to 10.0.0.2:8080 failed (111: Connection refused) while connecting to upstream", nginxlog.CauseRefused},
		{"connect() to unix:/run/php/php-fpm.sock failed (2: No such file or directory) while connecting to upstream", nginxlog.CauseRefused},
		{"connect() failed (110: Connection timed out) while connecting to upstream", nginxlog.CauseConnectTimeout},
		{"upstream timed out (110: Connection timed out) while SSL handshaking to upstream", nginxlog.CauseConnectTimeout},
		{"upstream timed out (110: Connection timed out) while reading upstream", nginxlog.CauseReadTimeout},
		{"upstream timed out (110: Connection timed out) while sending request to upstream", nginxlog.CauseReadTimeout},
		{"readv() failed (104: Connection reset by peer) while reading upstream", nginxlog.CauseReset},
		{"upstream prematurely closed FastCGI stdout while reading response header from upstream", nginxlog.CausePrematureClose},
		{"backend.internal could not be resolved (110: Operation timed out)", nginxlog.CauseDNSFailure},
		{"no resolver defined to resolve backend.internal", nginxlog.CauseDNSFailure},
		{"upstream SSL certificate does not match \"backend\" while SSL handshaking to upstream", nginxlog.CauseTLSVerify},
		{"SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof while reading) while reading upstream", nginxlog.CauseTLSError},
		{"upstream sent invalid header while reading response header from upstream", nginxlog.CauseBadResponse},
		{"upstream sent invalid chunked response while reading upstream", nginxlog.CauseBadResponse},
		{"connect() to 10.0.0.2:80 failed (113: No route to host) while connecting to upstream", nginxlog.CauseUnreachable},
		{"connect() to 10.0.0.2:80 failed (101: Network is unreachable) while connecting to upstream", nginxlog.CauseUnreachable},
		{"connect() to 127.0.0.1:8080 failed (13: Permission denied) while connecting to upstream", nginxlog.CausePermissionDenied},
		{"socket() failed (24: Too many open files) while connecting to upstream", nginxlog.CauseResourceLimit},
		{"1024 worker_connections are not enough while connecting to upstream", nginxlog.CauseResourceLimit},
		{"connect() to 10.0.0.2:80 failed (99: Cannot assign requested address) while connecting to upstream", nginxlog.CauseResourceLimit},
		{"connect() to unix:/run/php.sock failed (11: Resource temporarily unavailable) while connecting to upstream", nginxlog.CauseResourceLimit},
		{"limiting requests, excess: 10.500 by zone \"one\"", nginxlog.CauseRateLimited},
		{"limiting connections by zone \"addr\"", nginxlog.CauseRateLimited},
		{"FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error\" while reading response header from upstream", nginxlog.CauseAppStderr},

		// Not the upstream's fault, or not an error at all.
		{"recv() failed (104: Connection reset by peer) while reading client request line", nginxlog.CauseOther},
		{"client timed out (110: Connection timed out) while reading client request headers", nginxlog.CauseOther},
		{"signal process started", nginxlog.CauseOther},
		{"", nginxlog.CauseOther},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			if got := nginxlog.Classify(tt.message); got != tt.want {
				t.Errorf("Classify(%q) = %q; want %q", tt.message, got, tt.want)
			}
		})
	}
}

func TestCauseCategory(t *testing.T) {
	tests := []struct {
		cause nginxlog.Cause
		want  nginxlog.Category
	}{
		{nginxlog.CauseRefused, nginxlog.CategoryUpstreamDown},
		{nginxlog.CauseConnectTimeout, nginxlog.CategoryNetwork},
		{nginxlog.CauseReadTimeout, nginxlog.CategoryOverload},
		{nginxlog.CauseNoLiveUpstreams, nginxlog.CategoryUpstreamDown},
		{nginxlog.CausePrematureClose, nginxlog.CategoryAppError},
		{nginxlog.CauseReset, nginxlog.CategoryAppError},
		{nginxlog.CauseUnreachable, nginxlog.CategoryNetwork},
		{nginxlog.CausePermissionDenied, nginxlog.CategoryFirewall},
		{nginxlog.CauseDNSFailure, nginxlog.CategoryDNS},
		{nginxlog.CauseTLSError, nginxlog.CategoryMisconfiguration},
		{nginxlog.CauseTLSVerify, nginxlog.CategoryMisconfiguration},
		{nginxlog.CauseHeaderTooBig, nginxlog.CategoryMisconfiguration},
		{nginxlog.CauseBadResponse, nginxlog.CategoryMisconfiguration},
		{nginxlog.CauseResourceLimit, nginxlog.CategoryOverload},
		{nginxlog.CauseRateLimited, nginxlog.CategoryOverload},
		{nginxlog.CauseAppStderr, nginxlog.CategoryAppError},
		{nginxlog.CauseOther, nginxlog.CategoryUnknown},
		{nginxlog.Cause("made_up"), nginxlog.CategoryUnknown},
	}
	for _, tt := range tests {
		if got := tt.cause.Category(); got != tt.want {
			t.Errorf("Cause(%q).Category() = %q; want %q", tt.cause, got, tt.want)
		}
	}
}

// Every one of the design's seven categories is reached by some cause, so
// none of the admin view's "what to check" texts is dead.
func TestCategoriesCovered(t *testing.T) {
	causes := []nginxlog.Cause{
		nginxlog.CauseRefused, nginxlog.CauseConnectTimeout, nginxlog.CauseReadTimeout,
		nginxlog.CauseNoLiveUpstreams, nginxlog.CausePrematureClose, nginxlog.CauseReset,
		nginxlog.CauseUnreachable, nginxlog.CausePermissionDenied, nginxlog.CauseDNSFailure,
		nginxlog.CauseTLSError, nginxlog.CauseTLSVerify, nginxlog.CauseHeaderTooBig,
		nginxlog.CauseBadResponse, nginxlog.CauseResourceLimit, nginxlog.CauseRateLimited,
		nginxlog.CauseAppStderr,
	}
	reached := map[nginxlog.Category]bool{}
	for _, c := range causes {
		reached[c.Category()] = true
	}
	cats := nginxlog.Categories()
	if len(cats) != 7 {
		t.Fatalf("Categories() = %q; want the design's 7", cats)
	}
	for _, c := range cats {
		if !reached[c] {
			t.Errorf("category %q is not reached by any cause", c)
		}
	}
}
