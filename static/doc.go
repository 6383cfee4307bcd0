// Package static holds the error page's CSS, JavaScript and images,
// embedded, and serves them under content-hashed names with immutable
// caching, precompressed with gzip. Brand logos from the config join the
// same set at start.
package static
