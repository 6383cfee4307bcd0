// Package httpx holds the small HTTP pieces both of gatewatch's listeners
// use: header reading and clipping, the one way each listener writes an
// error (Problem, Text), the security headers every response carries
// (SecurityHeaders), the 405 workaround for gorilla/mux (Methods), static
// assets and the panic net. It knows nothing of either product:
// handlers/public and handlers/admin import it, never each other.
package httpx
