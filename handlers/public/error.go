package public

import (
	"net/http"
	"strings"

	"github.com/gatewatch/gatewatch/handlers/httpx"
)

// Error is the public listener's one way to answer an error of its own:
// problem+json under /_gatewatch/api/ (the status API's clients are
// scripts), a line of text elsewhere (an asset, the clear-site-data form,
// a panic). Server errors are logged here, never shown. The error page a
// failed request gets is not an error of this listener but its product:
// handleErrorPage writes it, in the format the client negotiated.
func (d *publicDeps) Error(w http.ResponseWriter, r *http.Request, err error) {
	code, detail := httpx.StatusOf(err)
	if httpx.ShouldLog(err) {
		d.logger.Error("public: request failed", "err", err, "status", code, "path", r.URL.Path)
	}
	if strings.HasPrefix(r.URL.Path, "/_gatewatch/api/") {
		httpx.Problem(w, r, code, detail)
		return
	}
	httpx.Text(w, code, detail)
}
