// Package signin is the HTTP-free side of staff sign-in to the admin
// listener: the sessions kept in the store ([Sessions]), the check of
// passwords against the configured bcrypt hashes ([Passwords]) and the
// limits that slow password guessing ([Limits]). Cookies, forms, CSRF and
// the middleware are handlers/admin's.
package signin
