package browsernames

// ChromiumNames are the Chromium resources whose text a visitor's step
// may quote: the page-info bubble of the icon left of the address, and
// the settings pages that delete browsing or site data. Microsoft Edge
// is Chromium; Debian ships no Edge, so Edge's names are held to these
// too, and the steps quote no name that only Edge has.
var ChromiumNames = []string{
	"IDS_TOOLTIP_LOCATION_ICON",                 // "View site information"
	"IDS_PAGE_INFO_COOKIES_HEADER",              // "Cookies and site data"
	"IDS_PAGE_INFO_COOKIES_DIALOG_BUTTON_TITLE", // "Manage on-device site data"
	"IDS_PAGE_INFO_SITE_SETTINGS_LINK",          // "Site settings"
	"IDS_SITE_SETTINGS_TYPE_COOKIES",            // "Cookies and site data"
	"IDS_SETTINGS_PRIVACY",                      // "Privacy and security"
	"IDS_SETTINGS_SITE_SETTINGS",                // "Site settings"
	"IDS_SETTINGS_SITE_DATA_PAGE_TITLE",         // "On-device site data"
	"IDS_SETTINGS_COOKIES_ALL_SITES_LINK",       // "See all site data and permissions"
	"IDS_SETTINGS_CLEAR_BROWSING_DATA",          // "Delete browsing data"
	"IDS_SETTINGS_CLEAR_DATA",                   // "Delete data"
	"IDS_CLEAR_BROWSING_DATA",                   // "&Delete browsing data…"
}

// FirefoxFiles are the Fluent files the names come from.
var FirefoxFiles = []string{"browser/browser.ftl", "browser/preferences/preferences.ftl"}

// FirefoxNames are the Firefox messages a visitor's step may quote: the
// padlock panel's and the settings' ways to clear a site's data.
var FirefoxNames = []string{
	"identity-clear-site-data.label", // "Clear cookies and site data…"
	"trustpanel-clear-cookies-button",
	"sitedata-clear2.label",
	"sitedata-settings2.label",
	"sitedata-settings3.label",
}
