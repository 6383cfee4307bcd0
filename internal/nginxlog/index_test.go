package nginxlog_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// entry is the Entry of an error.log line of connection conn (none for 0)
// at second sec whose message is msg: the Index keeps raw lines and parses
// them again.
func entry(conn int64, sec int, msg string) nginxlog.Entry {
	line := fmt.Sprintf("2026/11/22 01:00:%02d [error] 7#7: ", sec)
	if conn != 0 {
		line += fmt.Sprintf("*%d ", conn)
	}
	e, err := nginxlog.ParseLine(line+msg, time.UTC)
	if err != nil || e.Message != msg || e.Conn != conn {
		panic(fmt.Sprintf("ParseLine(%q) = %+v, %v", line+msg, e, err))
	}
	return e
}

func messages(es []nginxlog.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

func TestIndexLookup(t *testing.T) {
	ix := nginxlog.NewIndex(10)
	ix.Add(entry(1, 0, "a"))
	ix.Add(entry(2, 1, "b"))
	ix.Add(entry(0, 2, "notice"))
	ix.Add(entry(1, 3, "c"))

	tests := []struct {
		conn int64
		want string
	}{
		{1, "[a c]"},
		{2, "[b]"},
		{3, "[]"},
		{0, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(messages(ix.Lookup(tt.conn))); got != tt.want {
			t.Errorf("Lookup(%d) = %s; want %s", tt.conn, got, tt.want)
		}
	}
	if got := ix.Len(); got != 4 {
		t.Errorf("Len() = %d; want 4", got)
	}
	if got := fmt.Sprint(messages(ix.Recent(2))); got != "[notice c]" {
		t.Errorf("Recent(2) = %s; want [notice c]", got)
	}
	if got := fmt.Sprint(messages(ix.Recent(100))); got != "[a b notice c]" {
		t.Errorf("Recent(100) = %s; want [a b notice c]", got)
	}
}

func TestIndexEviction(t *testing.T) {
	ix := nginxlog.NewIndex(3)
	for i, e := range []nginxlog.Entry{
		entry(1, 0, "a"), entry(2, 1, "b"), entry(1, 2, "c"), entry(3, 3, "d"), entry(4, 4, "e"),
	} {
		ix.Add(e)
		if got, want := ix.Len(), min(i+1, 3); got != want {
			t.Errorf("after %d adds Len() = %d; want %d", i+1, got, want)
		}
	}
	// a and b are the oldest and were evicted; c, d, e remain.
	tests := []struct {
		conn int64
		want string
	}{
		{1, "[c]"},
		{2, "[]"},
		{3, "[d]"},
		{4, "[e]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(messages(ix.Lookup(tt.conn))); got != tt.want {
			t.Errorf("Lookup(%d) = %s; want %s", tt.conn, got, tt.want)
		}
	}
	if got := fmt.Sprint(messages(ix.Recent(3))); got != "[c d e]" {
		t.Errorf("Recent(3) = %s; want [c d e]", got)
	}
}

// Wrapping the ring many times keeps exactly the newest entries reachable.
func TestIndexEvictionLong(t *testing.T) {
	const size = 100
	ix := nginxlog.NewIndex(size)
	for i := range 1050 {
		ix.Add(entry(int64(i%7+1), 0, fmt.Sprint(i)))
	}
	total := 0
	for conn := int64(1); conn <= 7; conn++ {
		for _, e := range ix.Lookup(conn) {
			var n int
			fmt.Sscan(e.Message, &n)
			if n < 1050-size || int64(n%7+1) != conn {
				t.Errorf("Lookup(%d) returned entry %d; want only the last %d entries of that conn", conn, n, size)
			}
			total++
		}
	}
	if total != size {
		t.Errorf("Lookup over all conns found %d entries; want %d", total, size)
	}
}

// One connection number repeated many times keeps only its newest 64.
func TestIndexPerConnBound(t *testing.T) {
	ix := nginxlog.NewIndex(1000)
	for i := range 200 {
		ix.Add(entry(5, 0, fmt.Sprint(i)))
	}
	got := ix.Lookup(5)
	if len(got) != 64 {
		t.Fatalf("len(Lookup(5)) = %d; want 64", len(got))
	}
	if got[0].Message != "136" || got[63].Message != "199" {
		t.Errorf("Lookup(5) = %s..%s; want 136..199", got[0].Message, got[63].Message)
	}
	// Evicting all of them leaves nothing dangling.
	for i := range 1000 {
		ix.Add(entry(6, 0, fmt.Sprint(i)))
	}
	if got := ix.Lookup(5); len(got) != 0 {
		t.Errorf("Lookup(5) after eviction = %d entries; want 0", len(got))
	}
}

func TestIndexLookupNear(t *testing.T) {
	ix := nginxlog.NewIndex(0)
	ix.Add(entry(9, 0, "before restart"))
	ix.Add(entry(9, 40, "now"))
	ix.Add(entry(9, 42, "now, next peer"))
	at := time.Date(2026, 11, 22, 1, 0, 41, 500e6, time.UTC)
	if got := fmt.Sprint(messages(ix.LookupNear(9, at, 2*time.Second))); got != "[now now, next peer]" {
		t.Errorf("LookupNear(9, %v, 2s) = %s; want [now now, next peer]", at, got)
	}
	if got := ix.LookupNear(9, at, 0); len(got) != 0 {
		t.Errorf("LookupNear(9, %v, 0) = %d entries; want 0", at, len(got))
	}
}

func TestIndexConcurrent(t *testing.T) {
	ix := nginxlog.NewIndex(50)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				ix.Add(entry(int64(w*1000+i%10+1), 0, "x"))
				ix.Lookup(int64(i%10 + 1))
				ix.Recent(5)
			}
		}()
	}
	wg.Wait()
	if got := ix.Len(); got != 50 {
		t.Errorf("Len() = %d; want 50", got)
	}
}

func TestForRequest(t *testing.T) {
	entries := []nginxlog.Entry{
		{Request: "GET /dead/cart HTTP/1.1", Raw: "a"},
		{Request: "GET /dead/checkout?step=2 HTTP/1.1", Raw: "b"},
		{Request: "POST /dead/cart HTTP/1.1", Raw: "c"},
	}
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/dead/cart", "a"},
		{"GET", "/dead/checkout", "b"},
		{"POST", "/dead/cart", "c"},
		{"GET", "/elsewhere", "abc"},
	} {
		var got string
		for _, e := range nginxlog.ForRequest(entries, tc.method, tc.path) {
			got += e.Raw
		}
		if got != tc.want {
			t.Errorf("ForRequest(%q, %q) = %q; want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// reqLine is an error.log line of connection conn about request req.
func reqLine(conn int64, sec int, msg, req string) nginxlog.Entry {
	line := fmt.Sprintf(`2026/11/22 01:00:%02d [error] 7#7: *%d %s, client: 127.0.0.1, server: shop, request: "%s", host: "shop"`, sec, conn, msg, req)
	e, err := nginxlog.ParseLine(line, time.UTC)
	if err != nil {
		panic(err)
	}
	return e
}

func TestIndexEvidence(t *testing.T) {
	ix := nginxlog.NewIndex(0)
	named := reqLine(3, 10, "upstream sent too big header while reading response header from upstream", "GET /cart?x=1 HTTP/1.1")
	later := reqLine(3, 11, "something nginx does not name", "GET /cart HTTP/1.1")
	other := reqLine(3, 11, "connect() failed (111: Connection refused) while connecting to upstream", "GET /other HTTP/1.1")
	for _, e := range []nginxlog.Entry{named, later, other} {
		ix.Add(e)
	}
	at := time.Date(2026, 11, 22, 1, 0, 11, 0, time.UTC)
	for _, tc := range []struct {
		method, path string
		window       time.Duration
		want         string
	}{
		// The request's own lines; of those the one that names a cause.
		{"GET", "/cart", 5 * time.Second, named.Raw},
		{"GET", "/other", 5 * time.Second, other.Raw},
		// No line of its own: the connection's newest that names a cause.
		{"POST", "/cart", 5 * time.Second, other.Raw},
		// Only the lines within the window: /cart's own line without a cause.
		{"GET", "/cart", 500 * time.Millisecond, later.Raw},
		{"GET", "/cart", -1, named.Raw},
	} {
		got, ok := ix.Evidence(3, at, tc.window, tc.method, tc.path)
		if !ok || got != tc.want {
			t.Errorf("Evidence(3, %s %s, %s) = %q, %v; want %q", tc.method, tc.path, tc.window, got, ok, tc.want)
		}
	}
	if got, ok := ix.Evidence(4, at, time.Minute, "GET", "/cart"); ok {
		t.Errorf("Evidence(4) = %q, true; want none", got)
	}
	at = at.Add(time.Hour)
	if got, ok := ix.Evidence(3, at, 5*time.Second, "GET", "/cart"); ok {
		t.Errorf("Evidence an hour later = %q, true; want none", got)
	}
}

// EachNear hands over the connection's lines newest first with their
// request keys, and allocates nothing: it runs for every event.
func TestIndexEachNear(t *testing.T) {
	ix := nginxlog.NewIndex(100)
	for i := range 80 {
		ix.Add(reqLine(5, i%60, "upstream sent too big header", fmt.Sprintf("GET /p/%d HTTP/1.1", i)))
		ix.Add(reqLine(6, i%60, "x", "GET / HTTP/1.1"))
	}
	at := time.Date(2026, 11, 22, 1, 0, 30, 0, time.UTC)
	var raws []string
	ix.EachNear(5, at, -1, func(l nginxlog.Line) bool {
		raws = append(raws, l.Raw())
		return true
	})
	// 100 entries kept of 160: conn 5's newest 50.
	if len(raws) != 50 || raws[0] != reqLine(5, 79%60, "upstream sent too big header", "GET /p/79 HTTP/1.1").Raw {
		t.Fatalf("EachNear(5) = %d lines starting %q; want 50 from /p/79", len(raws), raws[0])
	}
	key := ix.RequestKey("GET", "/p/75")
	var found int
	allocs := testing.AllocsPerRun(100, func() {
		found = 0
		ix.EachNear(5, at, -1, func(l nginxlog.Line) bool {
			if l.Request == key && l.Cause == nginxlog.CauseHeaderTooBig {
				found++
			}
			return true
		})
	})
	if found != 1 {
		t.Errorf("EachNear found /p/75 %d times; want 1", found)
	}
	if allocs != 0 {
		t.Errorf("EachNear allocates %.0f times per call; want 0", allocs)
	}
}

// The raw lines are bounded by bytes too: long lines evict old entries
// before the count does, and every kept entry still has its whole line.
func TestIndexBytesBound(t *testing.T) {
	ix := nginxlog.NewIndex(1000) // 512 KB of lines
	long := strings.Repeat("x", 3000)
	for i := range 1000 {
		ix.Add(entry(int64(i+1), 0, fmt.Sprint(i, long)))
	}
	n := ix.Len()
	if n >= 1000 || n < 100 {
		t.Fatalf("Len() = %d after 1000 lines of 3 KB in 512 KB; want about 170", n)
	}
	for i := 1000 - n; i < 1000; i++ {
		got := ix.Lookup(int64(i + 1))
		if len(got) != 1 || got[0].Message != fmt.Sprint(i, long) {
			t.Fatalf("Lookup(%d) = %d entries; want its whole line", i+1, len(got))
		}
	}
	if got := ix.Lookup(int64(1000 - n)); len(got) != 0 {
		t.Errorf("Lookup of the newest evicted entry = %d entries; want 0", len(got))
	}
}
