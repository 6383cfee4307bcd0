// Package monitor keeps the cached status of every configured upstream and
// turns it, with the count of affected visitors, into the verdict a visitor
// sees: is the site down for everyone?
//
// Three rules shape it, all from the design's "never block, never amplify":
//
//   - Reads never wait. Status returns a snapshot published after each check;
//     it does not allocate and never starts or waits on a probe, so it can
//     serve every page view and API poll.
//   - Probes are scarce. Each upstream is checked in the background on an
//     interval (faster while down, backing off while it stays down). An
//     error page may ask for a fresh check through Observe, but per upstream
//     at most one probe is in flight (golang.org/x/sync/singleflight) and at
//     most one starts per MinInterval (a time gate in front of it), whatever
//     the page-view rate. Requests turned away are counted.
//   - Only configured targets are probed. A target is an upstream's check URL
//     or, for an upstream without one, an address nginx reported that is
//     listed in that upstream's configured addrs. Nothing a visitor sends
//     (headers, query, body) can name anything else.
//
// Affected visitors are counted per site over a sliding window, as distinct
// keyed hashes (HMAC-SHA-256) of IP and user agent under a salt that rotates
// every UTC day; raw IPs are never stored. One IP counts for at most a few
// visitors, so varying the user agent from one address cannot on its own
// declare a site down for everyone.
package monitor
