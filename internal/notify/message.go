package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/internal/incident"
)

// Events, as webhooks name them.
const (
	EventOpened       = "incident.opened"
	EventCauseChanged = "incident.cause_changed"
	EventClosed       = "incident.closed"
)

// Message is one event of one incident.
type Message struct {
	// Delivery identifies the event (its timeline entry): a receiver that
	// sees it twice can tell.
	Delivery int64
	Event    string
	At       time.Time
	Incident incident.Incident
	// URL opens the incident in the admin.
	URL string
}

// MessageFor builds the message of a claimed notice; ok is false for a
// timeline entry that is not an event staff are told of.
func MessageFor(n incident.Notice, adminURL string) (Message, bool) {
	ev := ""
	switch n.Entry.Kind {
	case incident.KindOpened:
		ev = EventOpened
	case incident.KindCause:
		ev = EventCauseChanged
	case incident.KindClosed:
		ev = EventClosed
	default:
		return Message{}, false
	}
	url := strings.TrimSuffix(adminURL, "/") + "/admin/incidents/" + strconv.FormatInt(n.Incident.ID, 10)
	return Message{Delivery: n.Entry.ID, Event: ev, At: n.Entry.At.UTC(), Incident: n.Incident, URL: url}, true
}

// verb is the event in a sentence.
func (m Message) verb() string {
	switch m.Event {
	case EventOpened:
		return "opened"
	case EventCauseChanged:
		return "changed cause"
	}
	return "closed"
}

func (m Message) where() string {
	in := m.Incident
	if in.Upstream == "" {
		return in.Site
	}
	return in.Site + " / " + in.Upstream
}

func (m Message) cause() string {
	if m.Incident.Cause.Class == "" {
		return "not known yet"
	}
	return m.Incident.Cause.Class
}

// Subject is the one-line summary: the e-mail subject, the chat line.
func (m Message) Subject() string {
	return fmt.Sprintf("Incident #%d %s: %s", m.Incident.ID, m.verb(), m.where())
}

// Text is the plain-text body.
func (m Message) Text() string {
	in := m.Incident
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s.\n\n", m.Subject(), m.At.Format(time.RFC3339))
	fmt.Fprintf(&b, "Cause: %s\n", m.cause())
	if in.Cause.Detail != "" {
		fmt.Fprintf(&b, "Detail: %s\n", in.Cause.Detail)
	}
	fmt.Fprintf(&b, "Opened: %s\n", in.OpenedAt.UTC().Format(time.RFC3339))
	if in.ClosedAt != nil {
		fmt.Fprintf(&b, "Closed: %s (after %s)\n", in.ClosedAt.UTC().Format(time.RFC3339), in.ClosedAt.Sub(in.OpenedAt).Round(time.Second))
	}
	fmt.Fprintf(&b, "Error pages served: %d to %d visitors\n\n", in.Requests, in.Visitors)
	fmt.Fprintf(&b, "Open it in gatewatch: %s\n", m.URL)
	return b.String()
}
