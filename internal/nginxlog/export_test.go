package nginxlog

// WithPollHook returns f calling fn after each poll, so that black-box tests
// can wait for the Follower instead of sleeping.
func WithPollHook(f Follower, fn func()) Follower {
	f.polled = fn
	return f
}
