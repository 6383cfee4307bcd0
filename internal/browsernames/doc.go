// Package browsernames reads the menu names browsers ship in each of their
// languages, from Debian's packages of their translations: Chromium's
// locale .pak files (chromium-l10n) and Firefox's Fluent files inside
// omni.ja and its language packs (firefox-esr-l10n-*). The visitor's page
// quotes these names, so they must be the browser's own words.
package browsernames
