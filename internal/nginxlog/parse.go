package nginxlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMalformed is wrapped by every error ParseLine returns, so callers can
// count unparsable lines with errors.Is without matching text.
var ErrMalformed = errors.New("nginxlog: malformed line")

// timeLayout is nginx's error.log timestamp (ngx_cached_err_log_time): local
// time of the nginx host, one-second resolution, no zone.
const timeLayout = "2006/01/02 15:04:05"

// Entry is one parsed error.log line.
type Entry struct {
	// Time is when nginx wrote the line, in the Location given to ParseLine.
	// nginx logs whole seconds only.
	Time time.Time
	// Level is the severity as written: debug, info, notice, warn, error,
	// crit, alert or emerg.
	Level string
	// PID and TID are the worker's process and thread ids ("1234#1234").
	PID, TID int
	// Conn is nginx's connection number ("*17"), the value of $connection
	// that nginx sends as X-Nginx-Connection; 0 when the line has none.
	Conn int64
	// Message is the text after "*N " up to ", client: ", including
	// nginx's "while ..." action.
	Message string
	// Client, Server, Request, Upstream, Host and Referrer are the context
	// nginx appends to the message; empty when absent. Request, Host and
	// Referrer come from the visitor and may hold anything.
	Client, Server, Request, Upstream, Host, Referrer string
	// Cause is Classify(Message).
	Cause Cause
	// Truncated reports that the line was cut: nginx cuts error.log lines at
	// 2048 bytes (a quoted value then has no closing quote), and Follower
	// cuts lines longer than its MaxLineBytes.
	Truncated bool
	// Raw is the whole line as read, without its newline: the evidence shown
	// to staff. It is untrusted text; escape it when rendering.
	Raw string
}

// UpstreamAddr returns the address part of e.Upstream, the form nginx's
// $upstream_addr and the config's addrs use: "127.0.0.1:9" from
// "http://127.0.0.1:9/cart?x=1", "unix:/run/app.sock" from
// "http://unix:/run/app.sock:/cart". For "no live upstreams" nginx logs the
// upstream group's name instead of an address, and that name is returned.
func (e Entry) UpstreamAddr() string {
	u := e.Upstream
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+len("://"):]
	}
	if rest, ok := strings.CutPrefix(u, "unix:"); ok {
		path, _, _ := strings.Cut(rest, ":")
		return "unix:" + path
	}
	addr, _, _ := strings.Cut(u, "/")
	return addr
}

// ParseConn parses the X-Nginx-Connection header value (nginx's
// $connection), reporting false for anything but a positive decimal number.
func ParseConn(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// ParseLine parses one nginx error.log line, such as
//
//	2026/11/22 01:55:20 [error] 1234#1234: *17 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:9/", host: "shop.example"
//
// loc is the time zone of the nginx host, because nginx writes local time
// without a zone; nil means UTC. A trailing newline is ignored. Lines
// without "*N" (nginx's own notices) parse with Conn 0. A line whose prefix
// (time, level, pid) is not nginx's returns an error wrapping ErrMalformed;
// once the prefix is good, whatever follows is kept in Message rather than
// rejected, since a cut or odd line is still evidence.
func ParseLine(line string, loc *time.Location) (Entry, error) {
	if loc == nil {
		loc = time.UTC
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	e := Entry{Raw: line}

	if len(line) < len(timeLayout) {
		return Entry{}, fmt.Errorf("%w: too short", ErrMalformed)
	}
	t, err := time.ParseInLocation(timeLayout, line[:len(timeLayout)], loc)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: time %q", ErrMalformed, line[:len(timeLayout)])
	}
	e.Time = t
	rest := line[len(timeLayout):]

	rest, ok := strings.CutPrefix(rest, " [")
	if !ok {
		return Entry{}, fmt.Errorf("%w: no level", ErrMalformed)
	}
	level, rest, ok := strings.Cut(rest, "] ")
	if !ok || !knownLevel(level) {
		return Entry{}, fmt.Errorf("%w: level %q", ErrMalformed, level)
	}
	e.Level = level

	pids, after, ok := strings.Cut(rest, ": ")
	if !ok {
		// A line cut right after the pid still has "PID#TID:" at its end.
		pids, ok = strings.CutSuffix(rest, ":")
	}
	rest = after
	pid, tid, okPID := strings.Cut(pids, "#")
	if !ok || !okPID {
		return Entry{}, fmt.Errorf("%w: no pid#tid", ErrMalformed)
	}
	if e.PID, ok = parseUint(pid); !ok {
		return Entry{}, fmt.Errorf("%w: pid %q", ErrMalformed, pid)
	}
	if e.TID, ok = parseUint(tid); !ok {
		return Entry{}, fmt.Errorf("%w: tid %q", ErrMalformed, tid)
	}

	if conn, after, ok := cutConn(rest); ok {
		e.Conn, rest = conn, after
	}

	e.Message = rest
	if i, tl, ok := findTail(rest); ok {
		e.Message = rest[:i]
		e.Client, e.Server, e.Request = tl.client, tl.server, tl.request
		e.Upstream, e.Host, e.Referrer = tl.upstream, tl.host, tl.referrer
		e.Truncated = tl.cut
	}
	e.Cause = Classify(e.Message)
	return e, nil
}

func knownLevel(s string) bool {
	switch s {
	case "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg":
		return true
	}
	return false
}

// parseUint accepts only plain decimal digits, unlike strconv.Atoi, which
// would take "+5" or "-5"; pids are never signed.
func parseUint(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// cutConn splits "*17 message" into 17 and "message". nginx always follows
// the number with a space, except when a cut line ends right after it.
func cutConn(s string) (int64, string, bool) {
	if !strings.HasPrefix(s, "*") {
		return 0, s, false
	}
	digits, after, found := strings.Cut(s[1:], " ")
	if !found {
		after = ""
	}
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, s, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, s, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, s, false
	}
	return n, after, true
}

// tail holds the context nginx's http log handler appends to a message.
type tail struct {
	client, server, request, subrequest, upstream, host, referrer string
	cut                                                           bool
}

// tailKey is one "key: value" item of a line's context.
type tailKey struct {
	name   string
	quoted bool
}

// tailKeys lists, in nginx's fixed order (ngx_http_log_error_handler), the
// keys that may follow "client: ADDR". Quoted values are written without
// escaping, so a request or referrer may itself contain quotes. It is a
// function rather than a package variable so that nothing can modify it.
func tailKeys() []tailKey {
	return []tailKey{
		{"server", false},
		{"request", true},
		{"subrequest", true},
		{"upstream", true},
		{"host", true},
		{"referrer", true},
	}
}

const clientMarker = ", client: "

// findTail finds where the message ends and its context begins. The message
// itself may contain ", client: " (nginx quotes the visitor's bad header line
// in "client sent invalid header line"), so each occurrence is tried in turn
// and the first one followed by a plausible client address wins.
func findTail(s string) (int, tail, bool) {
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], clientMarker)
		if i < 0 {
			break
		}
		i += from
		if tl, ok := parseTail(s[i+len(clientMarker):]); ok {
			return i, tl, true
		}
		from = i + len(clientMarker)
	}
	return 0, tail{}, false
}

// parseTail parses "ADDR, server: NAME, request: "...", ...". The client
// address must contain no space, comma or quote; this is what tells the real
// context apart from text quoted in the message. After it, keys are read in
// nginx's order and parsing stops quietly at anything unknown (the stream
// module appends "bytes from/to client:..." for instance).
func parseTail(s string) (tail, bool) {
	var tl tail
	client, rest, found := strings.Cut(s, ", ")
	if found {
		rest = ", " + rest
	}
	if client == "" || strings.ContainsAny(client, " \t\",") {
		return tail{}, false
	}
	tl.client = client

	keys := tailKeys()
	next := 0
	for rest != "" && next < len(keys) {
		k := -1
		for j := next; j < len(keys); j++ {
			if strings.HasPrefix(rest, ", "+keys[j].name+": ") {
				k = j
				break
			}
		}
		if k < 0 {
			break
		}
		rest = rest[len(", "+keys[k].name+": "):]
		var value string
		if keys[k].quoted {
			value, rest, tl.cut = cutQuoted(rest, keys[k+1:])
		} else if value, rest, found = strings.Cut(rest, ", "); found {
			rest = ", " + rest
		}
		switch keys[k].name {
		case "server":
			tl.server = value
		case "request":
			tl.request = value
		case "subrequest":
			tl.subrequest = value
		case "upstream":
			tl.upstream = value
		case "host":
			tl.host = value
		case "referrer":
			tl.referrer = value
		}
		next = k + 1
	}
	return tl, true
}

// cutQuoted reads a quoted value from s, which starts at its opening quote.
// The value ends at the first quote followed by the end of the line or by
// one of the later keys, because nginx does not escape quotes inside it.
// Failing that, at the first quote followed by ", " (context nginx's stream
// module and third-party modules append). If there is none either, the line
// was cut inside the value, and the rest is the value.
func cutQuoted(s string, later []tailKey) (value, rest string, cut bool) {
	body, ok := strings.CutPrefix(s, `"`)
	if !ok {
		// Not nginx's shape; keep what is there rather than lose it.
		value, rest, _ = strings.Cut(s, ", ")
		if rest != "" {
			rest = ", " + rest
		}
		return value, rest, false
	}
	unknown := -1
	for off := 0; off < len(body); {
		q := strings.IndexByte(body[off:], '"')
		if q < 0 {
			break
		}
		q += off
		after := body[q+1:]
		if after == "" {
			return body[:q], "", false
		}
		for _, k := range later {
			if strings.HasPrefix(after, ", "+k.name+": ") {
				return body[:q], after, false
			}
		}
		if unknown < 0 && strings.HasPrefix(after, ", ") {
			unknown = q
		}
		off = q + 1
	}
	if unknown >= 0 {
		return body[:unknown], body[unknown+1:], false
	}
	return body, "", true
}
