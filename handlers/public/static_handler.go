package public

import (
	"path/filepath"
	"strings"
)

// LogoAsset is the logical asset name of a site's logo file, "" when the
// site has none.
func LogoAsset(site, path string) string {
	if path == "" {
		return ""
	}
	return "brand/" + site + strings.ToLower(filepath.Ext(path))
}
