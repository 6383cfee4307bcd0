// gatewatch error page: live status, auto-retry, copy and clear-site-data.
// The page works without this file; it only adds what needs a script.
(function () {
  "use strict";
  var root = document.getElementById("gw");
  if (!root) return;
  var d = root.dataset;
  var $ = function (sel) { return root.querySelector(sel); };

  // Copy the reference and time for a support message.
  var copy = $("[data-copy]");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = copy.getAttribute("data-copy");
      navigator.clipboard.writeText(text).then(function () {
        var label = copy.textContent;
        copy.textContent = copy.getAttribute("data-copied");
        setTimeout(function () { copy.textContent = label; }, 2000);
      });
    });
  }

  // The language switcher is left alone: submitting it on change would
  // take a keyboard user away at the first arrow key (WCAG 3.2.2), so its
  // button stays, with or without scripts.

  // The reference time in the visitor's own zone and language, beside UTC.
  var when = $("[data-utc]");
  if (when && window.Intl) {
    try {
      var local = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "long" })
        .format(new Date(when.getAttribute("data-utc")));
      var span = document.createElement("span");
      span.className = "local";
      span.setAttribute("data-testid", "ref-local");
      span.textContent = local;
      when.appendChild(document.createElement("br"));
      when.appendChild(span);
    } catch (e) { /* an engine without these options keeps UTC only */ }
  }

  // Announcements: times in the visitor's zone, and the list kept as the
  // status API says it is now. Text goes in as text; only the http(s)
  // links the server made become links.
  var ann = $("[data-testid=announcements]");
  function localTime(iso) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
    } catch (e) { return null; }
  }
  function localiseTimes(box) {
    if (!window.Intl) return;
    box.querySelectorAll("time[datetime]").forEach(function (t) {
      var s = localTime(t.getAttribute("datetime"));
      if (s) { t.title = t.textContent; t.textContent = s; }
    });
  }
  function whenSpan(tpl, iso, which) {
    var span = document.createElement("span");
    span.setAttribute("data-when", which);
    var at = tpl.indexOf("{time}");
    var t = document.createElement("time");
    t.setAttribute("datetime", iso);
    t.textContent = iso;
    span.appendChild(document.createTextNode(at < 0 ? tpl + " " : tpl.slice(0, at)));
    span.appendChild(t);
    if (at >= 0) span.appendChild(document.createTextNode(tpl.slice(at + 6)));
    return span;
  }
  function renderAnnouncements(list) {
    if (!ann || !list) return;
    var up = ann.getAttribute("data-upstream") || "";
    // One past its end goes, even if the server still lists it for the
    // moment its board takes to notice.
    var now = Date.now();
    var mine = list.filter(function (a) { return (!a.upstream || a.upstream === up) && !(a.until && Date.parse(a.until) <= now); });
    var key = mine.map(function (a) { return a.id + "|" + a.text + "|" + (a.until || ""); }).join("\n");
    if (ann.getAttribute("data-key") === key) return;
    ann.setAttribute("data-key", key);
    while (ann.firstChild) ann.removeChild(ann.firstChild);
    mine.forEach(function (a) {
      var art = document.createElement("article");
      art.className = "notice";
      art.setAttribute("data-announcement", a.id);
      art.setAttribute("data-source", a.source);
      art.setAttribute("data-testid", "announcement");
      var p = document.createElement("p");
      p.className = "text";
      if (a.lang) p.lang = a.lang;
      (a.parts || [{ text: a.text }]).forEach(function (part) {
        if (part.href && /^https?:\/\//i.test(part.href)) {
          var link = document.createElement("a");
          link.href = part.href;
          link.rel = "nofollow noopener noreferrer ugc";
          link.dir = "ltr";
          link.textContent = part.text;
          p.appendChild(link);
        } else {
          p.appendChild(document.createTextNode(part.text));
        }
      });
      var w = document.createElement("p");
      w.className = "when";
      w.appendChild(whenSpan(ann.getAttribute("data-msg-posted") || "", a.start, "posted"));
      if (a.until) {
        w.appendChild(document.createTextNode(" · "));
        w.appendChild(whenSpan(ann.getAttribute("data-msg-until") || "", a.until, "until"));
      }
      art.appendChild(p);
      art.appendChild(w);
      ann.appendChild(art);
    });
    ann.hidden = mine.length === 0;
    localiseTimes(ann);
    annEnd = earliestEnd(mine.map(function (a) { return a.until; }));
  }
  // annEnd is when the first shown announcement ends (ms, 0 for none):
  // the page asks again then, however far its backoff has gone, so that
  // an ended announcement goes at its end.
  var annEnd = 0;
  function earliestEnd(isos) {
    var now = Date.now(), end = 0;
    isos.forEach(function (iso) {
      var t = iso ? Date.parse(iso) : NaN;
      if (t > now && (!end || t < end)) end = t;
    });
    return end;
  }
  if (ann) {
    ann.setAttribute("data-key", Array.prototype.map.call(ann.querySelectorAll("[data-announcement]"), function () { return "?"; }).join("\n"));
    annEnd = earliestEnd(Array.prototype.map.call(ann.querySelectorAll("[data-when=until] time[datetime]"), function (t) { return t.getAttribute("datetime"); }));
    localiseTimes(ann);
  }

  // Retry: reload the very URL that failed (a GET; a form is never resent).
  var retry = $("[data-retry-button]");
  if (retry) {
    retry.addEventListener("click", function (e) {
      if (d.method === "GET") { e.preventDefault(); location.reload(); }
    });
  }

  // Clear this site's data: Clear-Site-Data from a same-origin POST.
  var clear = $("[data-clear]");
  if (clear) {
    clear.addEventListener("submit", function (e) {
      e.preventDefault();
      var cookies = clear.querySelector("input[name=cookies]");
      var body = new URLSearchParams();
      if (cookies && cookies.checked) body.set("cookies", "1");
      var out = clear.querySelector("[data-clear-result]");
      fetch(clear.action, { method: "POST", body: body, credentials: "same-origin" }).then(function (r) {
        out.textContent = r.ok ? clear.getAttribute("data-done") : clear.getAttribute("data-failed");
      }, function () { out.textContent = clear.getAttribute("data-failed"); });
    });
  }

  // Live status: poll with exponential backoff and full jitter, never
  // sooner than the server's Retry-After, for at most 30 minutes.
  var url = d.statusUrl;
  if (!url || !window.fetch) return;
  var live = $("[data-live]");
  var again = $("[data-check-again]");
  var started = Date.now();
  var maxAge = 30 * 60 * 1000;
  var attempt = 0;
  var timer = 0;
  var due = 0;
  var retryAfter = parseInt(d.retryAfter, 10) || 5;

  // The countdown in the page's own digits (fa ۰:۱۲), as the server
  // writes its numbers and Intl the local time.
  var num = function (n, w) { return w > 1 && n < 10 ? "0" + n : String(n); };
  try {
    var nf = [1, 2].map(function (w) {
      return new Intl.NumberFormat(document.documentElement.lang, { minimumIntegerDigits: w, useGrouping: false });
    });
    num = function (n, w) { return nf[w - 1].format(n); };
  } catch (e) { /* Latin digits */ }
  function fmt(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return num(Math.floor(s / 60), 1) + ":" + num(s % 60, 2);
  }
  // The live line is seen, not heard; announce() speaks, through the
  // page's one polite region, only what changes the visitor's plans.
  var spoken = $("[data-announce]");
  function say(text) { if (live) live.textContent = text; }
  function announce(text) { if (spoken && text) spoken.textContent = text; }
  function tick() {
    var left = due - Date.now();
    if (left <= 0) return check();
    say(d.msgNext.replace("{time}", fmt(left)));
    timer = setTimeout(tick, Math.min(1000, left));
  }
  function schedule() {
    if (Date.now() - started > maxAge) {
      say(d.msgStopped);
      if (again) again.hidden = false;
      return;
    }
    // The first check comes when the server said (seconds, while a check
    // of the failure is under way); later ones back off with jitter,
    // never sooner than the server's Retry-After.
    var cap = Math.min(300, 5 * Math.pow(2, attempt));
    var wait = attempt === 0 ? retryAfter : Math.max(retryAfter, Math.random() * cap);
    attempt++;
    due = Date.now() + wait * 1000;
    if (annEnd > Date.now()) due = Math.min(due, annEnd + 1000);
    tick();
  }
  function render(s) {
    // A fault in the announcements must not stop the live status.
    try { renderAnnouncements(s.announcements); } catch (e) { /* keep polling */ }
    var box = $(".verdict");
    if (!box || !s.text) return;
    if (box.getAttribute("data-state") !== s.verdict) announce(s.text.answer);
    box.setAttribute("data-state", s.verdict);
    var set = function (sel, text) { var el = box.querySelector(sel); if (el && text != null) el.textContent = text; };
    set(".answer", s.text.answer);
    set(".detail", s.text.detail);
    set(".count", s.text.affected || "");
    (s.hops || []).forEach(function (h) {
      var hop = box.querySelector('.hop[data-hop="' + h.hop + '"]');
      if (!hop) return;
      hop.setAttribute("data-state", h.state);
      var st = hop.querySelector(".state");
      if (st) st.textContent = h.text;
      var ic = hop.querySelector(".icon");
      if (ic) ic.textContent = h.state === "ok" ? "✓" : h.state === "down" ? "✗" : h.state === "error" ? "!" : "…";
    });
  }
  // Loop guard: at most two reloads of one address in five minutes. The
  // server says reload only on a check made after the failure, but the
  // request may still fail where the check passed.
  var guardKey = "gw-reloads:" + location.pathname + location.search;
  function mayReload() {
    try {
      var now = Date.now();
      var seen = JSON.parse(sessionStorage.getItem(guardKey) || "[]").filter(function (t) { return now - t < 5 * 60 * 1000; });
      if (seen.length >= 2) return false;
      seen.push(now);
      sessionStorage.setItem(guardKey, JSON.stringify(seen));
    } catch (e) { /* no storage: the server's evidence alone decides */ }
    return true;
  }
  function back() {
    clearTimeout(timer);
    var go = $("[data-continue]");
    if (d.method !== "GET") {
      // Never resend a form: say so, and offer the page itself (a GET).
      say(d.msgBackPost);
      announce(d.msgBackPost);
      if (go) go.hidden = false;
    } else if (mayReload()) {
      say(d.msgBack);
      announce(d.msgBack);
      setTimeout(function () { location.reload(); }, 800);
    } else {
      // Reloaded twice already: the verdict says it works; let the
      // visitor decide.
      say("");
      if (go) go.hidden = false;
    }
  }
  function check() {
    say(d.msgChecking);
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" }).then(function (r) {
      var ra = parseInt(r.headers.get("Retry-After"), 10);
      if (ra > 0) retryAfter = ra;
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (s) {
      if (s.retry_after > 0) retryAfter = s.retry_after;
      render(s);
      if (s.reload) return back();
      schedule();
    }, function () { schedule(); });
  }
  if (again) {
    again.addEventListener("click", function () {
      again.hidden = true;
      started = Date.now();
      attempt = 0;
      check();
    });
  }
  schedule();
})();
