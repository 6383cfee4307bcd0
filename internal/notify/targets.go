package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/config"
)

// Target is one place messages go.
type Target interface {
	// Name is how metrics, the dashboard and the timeline call it: the
	// kind and the host, never a secret or a full URL.
	Name() string
	// Send delivers m once. An error wrapped in Permanent is not retried.
	Send(ctx context.Context, m Message) error
}

// PermanentError is a failure that a retry would only repeat (a 4xx
// answer, a malformed address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// SignatureHeader carries the HMAC-SHA256 of a webhook's body:
// "sha256=" and 64 lowercase hex digits.
const SignatureHeader = "X-Gatewatch-Signature"

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret, in
// constant time: what a receiver does.
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, body)))
}

// maxResponse bounds what is read of a target's answer.
const maxResponse = 4 << 10

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}

// post sends a JSON body and classifies the answer: 2xx is done, 429 and
// 5xx are worth a retry, other answers are permanent failures.
func post(ctx context.Context, client *http.Client, rawURL string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatewatch-notify")
	resp, err := client.Do(req)
	if err != nil {
		// The URL holds the target's secret path (Slack's does): keep it
		// out of logs and the dashboard.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return &PermanentError{fmt.Errorf("answered %d", resp.StatusCode)}
}

// noRedirects keeps a target from sending a message somewhere else.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// NewHTTPClient is the client webhooks are sent with.
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: noRedirects}
}

// Webhook posts the message as JSON, signed.
type Webhook struct {
	Label  string // the config's name; "" names it by host
	URL    string
	Secret []byte
	Client *http.Client
}

// Name implements Target.
func (w *Webhook) Name() string { return "webhook " + cmpOr(w.Label, hostOf(w.URL)) }

// Payload is the JSON body of a webhook.
type Payload struct {
	Event    string          `json:"event"`
	Delivery int64           `json:"delivery"`
	At       time.Time       `json:"at"`
	Incident PayloadIncident `json:"incident"`
	URL      string          `json:"url"`
	Summary  string          `json:"summary"`
}

// PayloadIncident is the incident in a Payload.
type PayloadIncident struct {
	ID          int64      `json:"id"`
	Site        string     `json:"site"`
	Upstream    string     `json:"upstream"`
	OpenedAt    time.Time  `json:"opened_at"`
	ClosedAt    *time.Time `json:"closed_at"`
	Cause       string     `json:"cause"`
	CauseDetail string     `json:"cause_detail,omitempty"`
	Requests    int64      `json:"requests"`
	Visitors    int64      `json:"visitors"`
}

// PayloadOf is the webhook body of m.
func PayloadOf(m Message) Payload {
	in := m.Incident
	p := Payload{Event: m.Event, Delivery: m.Delivery, At: m.At, URL: m.URL, Summary: m.Subject(),
		Incident: PayloadIncident{ID: in.ID, Site: in.Site, Upstream: in.Upstream, OpenedAt: in.OpenedAt.UTC(),
			Cause: in.Cause.Class, CauseDetail: in.Cause.Detail, Requests: in.Requests, Visitors: in.Visitors}}
	if in.ClosedAt != nil {
		t := in.ClosedAt.UTC()
		p.Incident.ClosedAt = &t
	}
	return p
}

// Send implements Target.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(PayloadOf(m))
	if err != nil {
		return &PermanentError{err}
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(w.Secret, body))
	h.Set("X-Gatewatch-Event", m.Event)
	h.Set("X-Gatewatch-Delivery", strconv.FormatInt(m.Delivery, 10))
	return post(ctx, w.Client, w.URL, body, h)
}

// Slack posts {"text": …} to a Slack-compatible incoming webhook.
type Slack struct {
	Label  string
	URL    string
	Client *http.Client
}

// Name implements Target.
func (s *Slack) Name() string { return "slack " + cmpOr(s.Label, hostOf(s.URL)) }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// slackEscape escapes what Slack's mrkdwn treats as markup.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Send implements Target.
func (s *Slack) Send(ctx context.Context, m Message) error {
	icon := ":red_circle:"
	switch m.Event {
	case EventCauseChanged:
		icon = ":large_orange_circle:"
	case EventClosed:
		icon = ":large_green_circle:"
	}
	text := fmt.Sprintf("%s %s — cause: %s, %d error pages to %d visitors. <%s|Open in gatewatch>",
		icon, slackEscape.Replace(m.Subject()), slackEscape.Replace(m.cause()), m.Incident.Requests, m.Incident.Visitors, m.URL)
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return &PermanentError{err}
	}
	return post(ctx, s.Client, s.URL, body, nil)
}

// SMTP sends the message as a plain-text e-mail.
type SMTP struct {
	Config  config.SMTP
	Timeout time.Duration
	// TLS configures STARTTLS; nil verifies the server's certificate for
	// its host name.
	TLS *tls.Config
}

// Name implements Target.
func (s *SMTP) Name() string { return "smtp " + s.Config.Addr }

// Send implements Target. The whole conversation is bounded by Timeout.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	c := s.Config
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &PermanentError{err}
	}
	d := net.Dialer{Timeout: s.Timeout}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(s.Timeout))
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer cl.Close()
	if ok, _ := cl.Extension("STARTTLS"); ok {
		tc := s.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: host}
		}
		if err := cl.StartTLS(tc); err != nil {
			return err
		}
	}
	if c.Username != "" {
		// PlainAuth refuses to send credentials without TLS, but to
		// localhost.
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return &PermanentError{err}
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return err
	}
	for _, to := range c.To {
		if err := cl.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(mailBody(c, m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// mailBody is the message in RFC 5322 form. Header values come from the
// config and from validated names; the subject is Q-encoded all the same.
func mailBody(c config.SMTP, m Message) []byte {
	var b bytes.Buffer
	from := mail.Address{Address: c.From}
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(c.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mimeQ("[gatewatch] "+m.Subject()))
	fmt.Fprintf(&b, "Date: %s\r\n", m.At.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <gatewatch.%d.%d@%s>\r\n", m.Incident.ID, m.Delivery, strings.SplitN(c.From, "@", 2)[1])
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Text(), "\n", "\r\n"))
	return b.Bytes()
}

func mimeQ(s string) string {
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return mimeQWord(s)
		}
	}
	return s
}

func mimeQWord(s string) string {
	var b strings.Builder
	b.WriteString("=?utf-8?q?")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c >= 0x21 && c <= 0x7e && c != '=' && c != '?' && c != '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

// Targets builds the targets cfg configures.
func Targets(cfg config.Notify) []Target {
	client := NewHTTPClient(cfg.Timeout.Duration)
	var out []Target
	for _, w := range cfg.Webhooks {
		out = append(out, &Webhook{Label: w.Name, URL: w.URL, Secret: []byte(w.Secret), Client: client})
	}
	for _, s := range cfg.Slack {
		out = append(out, &Slack{Label: s.Name, URL: s.URL, Client: client})
	}
	if cfg.SMTP.Addr != "" {
		out = append(out, &SMTP{Config: cfg.SMTP, Timeout: cfg.Timeout.Duration})
	}
	return out
}
