package pages_test

import (
	"testing"

	"github.com/gatewatch/gatewatch/pages"
)

func adminFrame(lang, dir string) pages.AdminFrame {
	return pages.AdminFrame{Lang: lang, Dir: dir, Title: "gatewatch", StyleURLs: []string{"/_gatewatch/static/style.abc.css"},
		Product: "gatewatch", HomeURL: "/admin/", HomeLabel: "Dashboard",
		Search: &pages.SearchBox{Action: "/admin/r/", Name: "q", Label: "Reference", Submit: "Open"},
		User:   "Signed in as ada", Logout: &pages.PostForm{Action: "/admin/logout", CSRF: "tok", Button: "Sign out"},
		Nav: []pages.Link{{URL: "/admin/announcements", Text: "Announcements"}}}
}

func TestAdminLoginView(t *testing.T) {
	m := &pages.AdminLogin{Frame: adminFrame("fa", "rtl"), Heading: "Sign in", Action: "/admin/login", CSRF: "tok-1",
		Next: hostile, UserLabel: "User", PasswordLabel: "Password", Submit: "Sign in", User: hostile, Error: "Wrong password"}
	m.Frame.Search, m.Frame.User, m.Frame.Logout = nil, "", nil
	doc, _ := render(t, pages.AdminLoginView(m))
	html := doc.Find("html")
	if attr(html, "lang") != "fa" || attr(html, "dir") != "rtl" {
		t.Errorf("<html lang %q dir %q>; want fa rtl", attr(html, "lang"), attr(html, "dir"))
	}
	form := doc.Find("form[data-testid=login]")
	if attr(form, "method") != "post" || attr(form, "action") != "/admin/login" {
		t.Errorf("login form method %q action %q", attr(form, "method"), attr(form, "action"))
	}
	if got := attr(form.Find("input[name=csrf]"), "value"); got != "tok-1" {
		t.Errorf("csrf = %q; want tok-1", got)
	}
	// What the visitor typed comes back verbatim, as a value.
	if got := attr(form.Find("input[name=user]"), "value"); got != hostile {
		t.Errorf("user value = %q; want %q", got, hostile)
	}
	if got := attr(form.Find("input[name=next]"), "value"); got != hostile {
		t.Errorf("next value = %q; want %q", got, hostile)
	}
	if attr(form.Find("input[name=user]"), "dir") != "ltr" || attr(form.Find("input[name=password]"), "dir") != "ltr" {
		t.Error("user name and password inputs are not left to right in a rtl page")
	}
	if got := doc.Find("[data-testid=login-error][role=alert]").Text(); got != "Wrong password" {
		t.Errorf("login error = %q", got)
	}
	for _, sel := range []string{"[data-testid=search]", "[data-testid=user]", "[data-testid=logout]"} {
		if doc.Find(sel).Length() != 0 {
			t.Errorf("%s on the login page", sel)
		}
	}
	// The admin pages run no scripts at all.
	if n := doc.Find("script").Length(); n != 0 {
		t.Errorf("%d script elements on an admin page; want none", n)
	}
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
}

func TestAdminMessageViewFrame(t *testing.T) {
	m := &pages.AdminMessage{Frame: adminFrame("en", "ltr"), Heading: "Not found", Text: "No request has the reference " + hostile}
	m.Frame.Search.Value = hostile
	doc, _ := render(t, pages.AdminMessageView(m))
	if got := doc.Find("[data-testid=message]").Text(); got != "No request has the reference "+hostile {
		t.Errorf("message = %q", got)
	}
	search := doc.Find("form[data-testid=search]")
	if attr(search, "method") != "get" || attr(search, "role") != "search" {
		t.Errorf("search form method %q role %q; want get, search", attr(search, "method"), attr(search, "role"))
	}
	if got := attr(search.Find("input[name=q]"), "value"); got != hostile {
		t.Errorf("search value = %q; want %q", got, hostile)
	}
	if got := doc.Find("[data-testid=user]").Text(); got != "Signed in as ada" {
		t.Errorf("user = %q", got)
	}
	if got := attr(doc.Find("form[data-testid=logout] input[name=csrf]"), "value"); got != "tok" {
		t.Errorf("logout csrf = %q; want tok", got)
	}
	if got := attr(doc.Find("a[data-testid=nav]"), "href"); got != "/admin/announcements" {
		t.Errorf("nav href = %q", got)
	}
	if n := doc.Find("script").Length(); n != 0 {
		t.Errorf("%d script elements on an admin page; want none", n)
	}
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
}

// Log lines and request values are the most hostile text an admin page
// shows: a visitor chose the path, the request line in nginx's log.
func TestAdminIncidentViewEscapesEvidence(t *testing.T) {
	m := &pages.AdminIncident{Frame: adminFrame("en", "ltr"), Heading: "Request " + hostile, NoIncident: "No incident",
		Event: &pages.AdminEvent{Heading: "The request",
			Facts: []pages.Fact{{Label: "Path", Value: hostile, Code: true}},
			Vars:  pages.Facts{Heading: "nginx", Empty: "none"},
			Log:   pages.LogLines{Heading: "error.log", Lines: []string{`2026/12/07 10:00:00 [error] 1#1: *7 connect() failed, request: "GET /` + hostile + `"`}}}}
	doc, _ := render(t, pages.AdminIncidentView(m))
	if got := doc.Find("[data-testid=event] dd code[dir=ltr]").Text(); got != hostile {
		t.Errorf("path fact = %q; want %q in a ltr code", got, hostile)
	}
	if got := doc.Find("[data-testid=event-log] pre[dir=ltr] span").Text(); got != m.Event.Log.Lines[0] {
		t.Errorf("log line = %q; want %q", got, m.Event.Log.Lines[0])
	}
	if got := doc.Find("[data-testid=event-vars] p.muted").Text(); got != "none" {
		t.Errorf("empty vars = %q; want none", got)
	}
	if doc.Find("[data-testid=incident-state]").Length() != 0 {
		t.Error("incident state shown without an incident")
	}
	noInjectedMarkup(t, doc)
	noInlineScript(t, doc)
}
