// Package locales holds gatewatch's translations (go-i18n message files,
// one per language, embedded) and the Catalog built from them once at
// start: the go-i18n Bundle, the supported languages and the negotiation
// of a visitor's language from ?lang=, the lang cookie and Accept-Language.
package locales
