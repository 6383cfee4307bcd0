// Package handlers is gatewatch's HTTP surface, in two rooms, one per
// product and listener:
//
//   - handlers/public: the error pages nginx's error_page points at, and
//     the /_gatewatch/ endpoints their browsers call (status API, static
//     assets, clear-site-data, the proxies' /_gatewatch/error/{code}), plus
//     the Static renderer behind `gatewatch render`.
//   - handlers/admin: the separate admin listener (sign-in, dashboard,
//     incidents, the request lookup, announcements, the JSON API,
//     /metrics, /healthz, /readyz).
//
// Each room has one routes.go that lists its whole URL surface. What both
// need lives in small packages they import, never in each other:
// handlers/httpx (errors, security headers, the 405 workaround, static
// assets) and internal/trust (trusted_proxies). docs/architecture.md
// draws the house; handlers/arch_test.go keeps it true.
package handlers
