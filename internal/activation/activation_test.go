package activation

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// passed makes n loopback listeners and returns the file function that
// hands out their descriptors as fds 3, 4, …, as a supervisor would, and
// the listeners' addresses.
func passed(t *testing.T, n int) (func(fd int, name string) *os.File, []string) {
	t.Helper()
	var files []*os.File
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close() // the passed descriptor keeps the socket
		files = append(files, f)
	}
	return func(fd int, _ string) *os.File {
		if i := fd - FirstFD; i >= 0 && i < len(files) {
			return files[i]
		}
		return nil
	}, addrs
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestListenersByName(t *testing.T) {
	file, addrs := passed(t, 2)
	got, err := listeners(env(map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "admin:public"}), 42, file)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(got)
	if len(got) != 2 || got["admin"] == nil || got["public"] == nil {
		t.Fatalf("listeners = %v; want admin and public", got)
	}
	if a := got["admin"].Addr().String(); a != addrs[0] {
		t.Errorf("admin listens on %s; want fd 3's %s", a, addrs[0])
	}
	if a := got["public"].Addr().String(); a != addrs[1] {
		t.Errorf("public listens on %s; want fd 4's %s", a, addrs[1])
	}
	// The socket really is the one passed: a client reaches it.
	c, err := net.Dial("tcp", addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	sc, err := got["public"].Accept()
	if err != nil {
		t.Fatalf("Accept on the passed socket: %v", err)
	}
	sc.Close()
}

func TestListenersWithoutNames(t *testing.T) {
	file, addrs := passed(t, 2)
	got, err := listeners(env(map[string]string{"LISTEN_PID": "7", "LISTEN_FDS": "2"}), 7, file)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(got)
	if got["public"].Addr().String() != addrs[0] || got["admin"].Addr().String() != addrs[1] {
		t.Errorf("public %v admin %v; want fd 3 public (%s), fd 4 admin (%s)", got["public"].Addr(), got["admin"].Addr(), addrs[0], addrs[1])
	}
}

func TestListenersNotForUs(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"nothing passed":       {},
		"another process's":    {"LISTEN_PID": "8", "LISTEN_FDS": "1"},
		"no LISTEN_PID at all": {"LISTEN_FDS": "1"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := listeners(env(vars), 7, func(int, string) *os.File {
				t.Error("a descriptor was opened")
				return nil
			})
			if err != nil || got != nil {
				t.Errorf("listeners(%v) = %v, %v; want nil, nil", vars, got, err)
			}
		})
	}
}

func TestListenersRefuses(t *testing.T) {
	notSocket := func(t *testing.T) func(int, string) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
		if err != nil {
			t.Fatal(err)
		}
		return func(int, string) *os.File { return f }
	}
	for _, tt := range []struct {
		name string
		vars map[string]string
		file func(*testing.T) func(int, string) *os.File
		want string
	}{
		{"unknown name", map[string]string{"LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"}, nil, `named "http"`},
		{"names and count disagree", map[string]string{"LISTEN_FDS": "2", "LISTEN_FDNAMES": "public"}, nil, "names 1 sockets"},
		{"too many unnamed", map[string]string{"LISTEN_FDS": "3"}, nil, "at most 2"},
		{"bad count", map[string]string{"LISTEN_FDS": "two"}, nil, "LISTEN_FDS"},
		{"same name twice", map[string]string{"LISTEN_FDS": "2", "LISTEN_FDNAMES": "public:public"}, nil, "two sockets"},
		{"not a socket", map[string]string{"LISTEN_FDS": "1"}, notSocket, "fd 3 (public)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["LISTEN_PID"] = "7"
			var file func(int, string) *os.File
			if tt.file != nil {
				file = tt.file(t)
			} else {
				file, _ = passed(t, 2)
			}
			got, err := listeners(env(tt.vars), 7, file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				closeAll(got)
				t.Fatalf("listeners(%v) = %v, %v; want an error with %q", tt.vars, got, err, tt.want)
			}
		})
	}
}

func closeAll(m map[string]net.Listener) {
	for _, ln := range m {
		ln.Close()
	}
}
