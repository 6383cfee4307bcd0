// Package nginxlog turns nginx's error.log into evidence for the admin view.
//
// When nginx hands a failed request to gatewatch it also passes its
// connection number ($connection, in the X-Nginx-Connection header). nginx
// writes the same number as "*N" on every error.log line about that
// connection, so the line that says why the upstream failed ("connect()
// failed (111: Connection refused) while connecting to upstream") can be
// shown to support staff next to the request they are looking at.
//
// The package has three parts, each usable on its own:
//
//   - ParseLine splits one error.log line into an Entry (time, level, pid,
//     connection, message, client, server, request, upstream, host,
//     referrer) and Classify maps the message onto a Cause, whose Category is
//     one of the design's seven admin causes.
//   - Index keeps a bounded window of recent entries, looked up by
//     connection number. nginx restarts its connection counter when it
//     restarts, so lookups return times and LookupNear narrows by time.
//   - Follower tails the file named in [nginx] error_log by polling, across
//     logrotate's rename-and-create and copytruncate styles.
//
// It knows nothing of HTTP, pages or storage; the caller wires a Follower
// into an Index and asks the Index when it builds the admin view.
package nginxlog
