// Package pages holds gatewatch's templ components. Each is a pure
// function of a typed view model whose strings are already localized:
// no clock, no lookups, no I/O happen while rendering.
package pages
