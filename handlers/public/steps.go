package public

import (
	"net/http"
	"strings"

	"github.com/gatewatch/gatewatch/handlers/proxied"
	"github.com/gatewatch/gatewatch/internal/cause"
	"github.com/gatewatch/gatewatch/locales"
	"github.com/gatewatch/gatewatch/pages"
)

// clearInstrOrder is the order of the other browsers' clear-data steps.
var clearInstrOrder = []string{"chrome", "firefox", "safari", "edge"}

// keys marks a shortcut for segments: keySep around the keys, joined by
// keyJoin, so that the translation can place it anywhere in its sentence.
func keys(k ...string) string {
	return keySep + strings.Join(k, keyJoin) + keySep
}

const keyJoin = "\x1e"

// segments splits a localized sentence at keySep into text and shortcuts.
func segments(s string) []pages.Segment {
	parts := strings.Split(s, keySep)
	out := make([]pages.Segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
		case i%2 == 1:
			out = append(out, pages.Segment{Keys: strings.Split(p, keyJoin)})
		default:
			out = append(out, pages.Segment{Text: p})
		}
	}
	return out
}

func text(s string) []pages.Segment { return []pages.Segment{{Text: s}} }

// stepMode is how the steps of a failed site are arranged for a verdict:
// "site" when the fault is on the site's side (come back later and the
// reference lead, the visitor's own steps are folded), "app" for an
// application error ("try again" leads), "you" when the visitor's own
// request is at fault (clearing cookies leads), "" otherwise.
func stepMode(v cause.Verdict) string {
	switch v {
	case cause.VerdictDown, cause.VerdictOverloaded, cause.VerdictMaintenance:
		return "site"
	case cause.VerdictAppError:
		return "app"
	case cause.VerdictJustYou:
		return "you"
	}
	return ""
}

// unsafeMethod reports whether a request with method m may have changed
// something on the site: repeating it could submit twice.
func unsafeMethod(m string) bool {
	switch m {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// downSteps are the steps for a site that failed, most useful first for
// the verdict (see stepMode). For a form submission there is a warning
// first and no hard refresh, which would send the form again; "Try again"
// is a plain link, a GET of the same address.
func downSteps(q *request) pages.Steps {
	tr := q.tr
	retry := pages.Step{ID: "retry", Title: tr.T("step.retry.title", nil), Body: text(tr.T("step.retry.body", nil)),
		Action: &pages.Action{Label: tr.T("step.retry.button", nil), URL: retryURL(q.p), Retry: true}}
	hard := pages.Step{ID: "hard-refresh", Title: tr.T("step.hard_refresh.title", nil), Body: hardRefresh(tr, q.p.Platform, q.p.Browser)}
	clearStep := pages.Step{ID: "clear", Title: tr.T("step.clear.title", nil), Body: text(tr.T("step.clear.body", nil)),
		List: clearInstructions(tr, q.p.Platform, q.p.Browser),
		Clear: &pages.ClearForm{
			Action:  clearDataPath,
			Back:    q.p.URI,
			Button:  tr.T("step.clear.button", nil),
			Cookies: tr.T("step.clear.cookies", nil),
			Done:    tr.T("step.clear.done", nil),
			Failed:  tr.T("step.clear.failed", nil),
		}}
	other := pages.Step{ID: "other", Title: tr.T("step.other.title", nil), Body: text(tr.T("step.other.body", nil))}
	later := pages.Step{ID: "later", Title: tr.T("step.later.title", nil), Body: text(tr.T("step.later.body", nil))}
	contact := contactStep(q)

	st := pages.Steps{Heading: tr.T("steps.heading", nil), FoldedLabel: tr.T("steps.folded", nil)}
	yours := []pages.Step{hard, clearStep, other}
	if q.unsafe {
		st.Warning = &pages.Notice{Title: tr.T("post.warning.title", nil), Body: tr.T("post.warning.body", nil)}
		yours = []pages.Step{clearStep, other}
	}
	switch stepMode(q.dec.Verdict) {
	case "site":
		st.Items, st.Folded = []pages.Step{later, contact, retry}, yours
	case "app":
		st.Items, st.Folded = []pages.Step{retry, later, contact}, yours
	case "you":
		st.Items = []pages.Step{clearStep, retry}
		if !q.unsafe {
			st.Items = append(st.Items, hard)
		}
		st.Items = append(st.Items, other, later, contact)
	default:
		st.Items = append(append([]pages.Step{retry}, yours...), later, contact)
	}
	return st
}

// requestSteps are the steps for a request the site refused (4xx): the
// site works, the address or the request may not.
func requestSteps(q *request) pages.Steps {
	tr := q.tr
	return pages.Steps{
		Heading: tr.T("steps.heading", nil),
		Items: []pages.Step{
			{ID: "check-address", Title: tr.T("step.check_address.title", nil), Body: text(tr.T("step.check_address.body", nil))},
			{ID: "home", Title: tr.T("step.home.title", nil),
				Action: &pages.Action{Label: tr.T("step.home.button", nil), URL: "/"}},
			contactStep(q),
		},
	}
}

// retryURL reloads what failed. Only a GET is repeated as such; for
// other methods the link opens the same address without resubmitting.
func retryURL(p proxied.Request) string { return p.URI }

// hardRefresh says how to reload from the origin on the visitor's platform
// and in their browser, with the key names of their language ("Strg",
// "Maj", "Mayús"): Ctrl+F5 or Ctrl+Shift+R on Windows and Linux; ⌘⇧R in
// Chrome, Firefox and Edge on a Mac but ⌥⌘R in Safari, where ⌘⇧R opens
// Reader; on phones, pulling down or the reload button, where it is.
func hardRefresh(tr locales.Translator, platform, browser string) []pages.Segment {
	ctrl := tr.T("key.ctrl", nil)
	ctrlF5, ctrlShiftR := keys(ctrl, "F5"), keys(ctrl, tr.T("key.shift", nil), "R")
	cmd := tr.T("key.cmd", nil)
	macKeys := keys(cmd, tr.T("key.mac_shift", nil), "R")
	switch platform {
	case "windows", "linux":
		return segments(tr.T("step.hard_refresh.keys_alt", map[string]any{"Keys": ctrlF5, "AltKeys": ctrlShiftR}))
	case "mac":
		if browser == "safari" {
			macKeys = keys(tr.T("key.option", nil), cmd, "R")
		}
		return segments(tr.T("step.hard_refresh.keys", map[string]any{"Keys": macKeys}))
	case "ios":
		return text(tr.T("step.hard_refresh.ios", nil))
	case "android":
		return text(tr.T("step.hard_refresh.android", nil))
	}
	return segments(tr.T("step.hard_refresh.other", map[string]any{"Keys": ctrlF5, "AltKeys": ctrlShiftR, "MacKeys": macKeys}))
}

// clearInstructions gives the visitor's own browser's steps first, then
// the others', so that a guess that went wrong costs one line.
func clearInstructions(tr locales.Translator, platform, browser string) []string {
	switch {
	case platform == "ios":
		return []string{tr.T("step.clear.ios", nil), tr.T("step.clear.other", nil)}
	case platform == "android":
		return []string{tr.T("step.clear.android", nil), tr.T("step.clear.other", nil)}
	}
	var out []string
	if browser == "chrome" || browser == "firefox" || browser == "safari" || browser == "edge" {
		out = append(out, tr.T("step.clear."+browser, nil))
	}
	for _, b := range clearInstrOrder {
		if b != browser {
			out = append(out, tr.T("step.clear."+b, nil))
		}
	}
	return out
}

func contactStep(q *request) pages.Step {
	tr, c := q.tr, q.site.Contact
	st := pages.Step{ID: "contact", Title: tr.T("step.contact.title", nil), Body: text(tr.T("step.contact.body", nil))}
	a := &pages.Action{}
	switch {
	case c.Email != "" && q.p.RequestID == "":
		// A pre-rendered page has no reference or time to prefill.
		a.Label, a.URL = tr.T("step.contact.email", nil), "mailto:"+c.Email
	case c.Email != "":
		data := map[string]any{
			"Code": q.p.Code, "Site": q.site.Brand.Title, "Reference": q.p.RequestID,
			"URL": q.mailURL, "Time": q.timeText,
		}
		a.Label = tr.T("step.contact.email", nil)
		a.URL = "mailto:" + c.Email + "?subject=" + mailEscape(tr.T("contact.subject", data)) + "&body=" + mailEscape(tr.T("contact.body", data))
	}
	if c.URL != "" {
		if a.URL == "" {
			a.Label, a.URL = tr.T("step.contact.url", nil), c.URL
		} else {
			a.Label2, a.URL2 = tr.T("step.contact.url", nil), c.URL
		}
	}
	if a.URL != "" {
		st.Action = a
	}
	return st
}

// mailEscape encodes a mailto header value as RFC 6068 wants: spaces as
// %20, not +, and line breaks as %0D%0A. It is appendMailEscaped, the
// encoder the prepared page fills its mailto slots with, so that the two
// cannot disagree (TestMailEscapeIsQueryEscape holds it to the standard
// library's).
func mailEscape(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	return string(appendMailEscaped(nil, s))
}
