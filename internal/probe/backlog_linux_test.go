//go:build linux

package probe_test

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/probe"
)

// fullBacklog returns the address of a loopback listener that never accepts
// and whose accept queue is full. Linux then drops further SYNs, so a
// connect attempt times out exactly as it does behind a dropping firewall,
// without a packet leaving loopback. It fails the test if the kernel does
// not behave that way, rather than pretending.
func fullBacklog(tb testing.TB) string {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socket: %v", err)
	}
	f := os.NewFile(uintptr(fd), "backlog")
	tb.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatalf("bind: %v", err)
	}
	// A backlog of 0: the queue holds one connection that is never accepted.
	if err := syscall.Listen(fd, 0); err != nil {
		tb.Fatalf("listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatalf("getsockname: %v", err)
	}
	in := sa.(*syscall.SockaddrInet4)
	addr := (&net.TCPAddr{IP: net.IP(in.Addr[:]), Port: in.Port}).String()
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr // the queue is full: SYNs are now dropped
		}
		tb.Cleanup(func() { c.Close() })
	}
	tb.Fatalf("the accept queue of %s never filled; this kernel accepts past the backlog", addr)
	return ""
}

// TestCheckConnectTimeoutRealDialer is the connect_timeout row with the
// default dialer against a listener whose SYNs go unanswered.
func TestCheckConnectTimeoutRealDialer(t *testing.T) {
	addr := fullBacklog(t)
	p := probe.New(probe.Options{Timeout: time.Second, StageTimeout: 300 * time.Millisecond})
	for _, url := range []string{"http://" + addr + "/", "tcp://" + addr} {
		r := p.Check(context.Background(), probe.Target{URL: url})
		if r.Class != probe.ClassConnectTimeout {
			t.Errorf("Check(%q).Class = %q; want %q (%s)", url, r.Class, probe.ClassConnectTimeout, r.Detail)
		}
		if d := r.Stages[0].Duration; d < 250*time.Millisecond || d > 800*time.Millisecond {
			t.Errorf("Check(%q) connect stage took %s; want about the 300ms stage timeout", url, d)
		}
	}
}
