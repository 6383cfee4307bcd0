// Package safeurl decides which visitor-derived URLs gatewatch may put in
// a link, a form action or a Location header: a path on this very site,
// nothing a browser could read as another host or a scheme.
package safeurl
