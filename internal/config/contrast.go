package config

import (
	"math"
	"strconv"
)

// PageColors are the colors the error page draws brand colors with or
// on (static/css/gatewatch.css; a test keeps the two the same): buttons
// and the monogram write the card's color on the brand color, links
// write the brand color on the card and the page background.
var PageColors = struct {
	CardLight, BgLight, CardDark, BgDark string
}{"#ffffff", "#f6f7f9", "#161b22", "#0d1117"}

// MinTextContrast is WCAG 2.x's minimum for normal text (1.4.3, AA).
const MinTextContrast = 4.5

// luminance is a hex color's relative luminance (WCAG 2.x); ok is false
// for anything but #rgb or #rrggbb.
func luminance(hex string) (float64, bool) {
	if len(hex) == 4 {
		hex = string([]byte{'#', hex[1], hex[1], hex[2], hex[2], hex[3], hex[3]})
	}
	if len(hex) != 7 || hex[0] != '#' {
		return 0, false
	}
	var ch [3]float64
	for i := range ch {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return 0, false
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		ch[i] = c
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2], true
}

// Contrast is the WCAG 2.x contrast ratio of two hex colors (1 to 21);
// 0 when either is not a hex color.
func Contrast(a, b string) float64 {
	la, ok1 := luminance(a)
	lb, ok2 := luminance(b)
	if !ok1 || !ok2 {
		return 0
	}
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// worstContrast is the lowest contrast of c against any of against, and
// that color.
func worstContrast(c string, against ...string) (float64, string) {
	worst, with := math.Inf(1), ""
	for _, a := range against {
		if r := Contrast(c, a); r < worst {
			worst, with = r, a
		}
	}
	return worst, with
}
