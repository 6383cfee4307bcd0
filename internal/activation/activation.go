// Package activation takes over the listening sockets that systemd (or
// any supervisor speaking its socket-activation protocol, such as
// systemd-socket-activate or a test harness) passed to the process, so
// that the listeners are bound before gatewatch starts: no port is ever
// free between the supervisor choosing it and gatewatch listening, and
// connections that arrive while gatewatch starts wait in the socket's
// queue instead of being refused.
//
// The protocol (sd_listen_fds(3)): LISTEN_PID is the process's id,
// LISTEN_FDS the number of sockets, passed as file descriptors 3, 4, …,
// and LISTEN_FDNAMES their colon-separated names (FileDescriptorName= in
// the .socket unit). gatewatch knows the names "public" and "admin";
// sockets passed without names are public then admin, in that order.
package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// FirstFD is the first file descriptor of passed sockets (SD_LISTEN_FDS_START).
const FirstFD = 3

// Names are the socket names gatewatch knows, in the order sockets passed
// without names take them.
var Names = []string{"public", "admin"}

// Listeners returns the sockets passed to the process whose id is pid, by
// name, reading the protocol's variables through getenv. No LISTEN_FDS, or
// a LISTEN_PID that is another process's (the variables were inherited
// from a parent), is no sockets and no error. A socket that is not a
// listening stream socket, or whose name gatewatch does not know, is an
// error: the operator meant something else.
func Listeners(getenv func(string) string, pid int) (map[string]net.Listener, error) {
	return listeners(getenv, pid, func(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) })
}

func listeners(getenv func(string) string, pid int, file func(fd int, name string) *os.File) (map[string]net.Listener, error) {
	fds := getenv("LISTEN_FDS")
	if fds == "" {
		return nil, nil
	}
	if p := getenv("LISTEN_PID"); p != strconv.Itoa(pid) {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("socket activation: LISTEN_FDS=%q: want a number of sockets", fds)
	}
	var names []string
	if v := getenv("LISTEN_FDNAMES"); v != "" {
		names = strings.Split(v, ":")
	}
	if names != nil && len(names) != n {
		return nil, fmt.Errorf("socket activation: LISTEN_FDNAMES names %d sockets, LISTEN_FDS=%d", len(names), n)
	}
	if names == nil && n > len(Names) {
		return nil, fmt.Errorf("socket activation: %d sockets without names; gatewatch takes at most %d (%s)", n, len(Names), strings.Join(Names, ", "))
	}
	out := map[string]net.Listener{}
	var errs []error
	for i := range n {
		name := ""
		if names != nil {
			name = names[i]
		} else {
			name = Names[i]
		}
		f := file(FirstFD+i, name)
		if f == nil {
			errs = append(errs, fmt.Errorf("socket activation: fd %d (%s) is not open", FirstFD+i, name))
			continue
		}
		// FileListener dups the descriptor (close-on-exec); the original
		// goes, so that nothing gatewatch might start inherits it.
		ln, err := net.FileListener(f)
		f.Close()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("socket activation: fd %d (%s): %w", FirstFD+i, name, err))
		case !slices.Contains(Names, name):
			ln.Close()
			errs = append(errs, fmt.Errorf("socket activation: fd %d is named %q; gatewatch knows %s (FileDescriptorName=)", FirstFD+i, name, strings.Join(Names, ", ")))
		case out[name] != nil:
			ln.Close()
			errs = append(errs, fmt.Errorf("socket activation: two sockets named %q", name))
		default:
			out[name] = ln
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, ln := range out {
			ln.Close()
		}
		return nil, err
	}
	return out, nil
}
