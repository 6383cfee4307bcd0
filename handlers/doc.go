// Package handlers is gatewatch's HTTP surface: NewPublic, the error pages
// nginx's error_page points at (with the status API, static assets and
// clear-site-data under /_gatewatch/), and NewAdminHandler, the separate admin
// listener. routes.go lists every route on one screen.
package handlers
