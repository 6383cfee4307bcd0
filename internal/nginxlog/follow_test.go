package nginxlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/nginxlog"
)

// logLine returns a real-looking error.log line for connection conn.
func logLine(conn int) string {
	return realLine("error", fmt.Sprint(conn), "connect() failed (111: Connection refused) while connecting to upstream") + "\n"
}

// follower runs a Follower on path until the test ends and returns the
// channel of entries it emits and of lines it could not parse.
type follower struct {
	entries  chan nginxlog.Entry
	unparsed chan string
	polls    chan struct{}
}

func startFollower(t *testing.T, f nginxlog.Follower) *follower {
	t.Helper()
	if f.Interval == 0 {
		f.Interval = 5 * time.Millisecond
	}
	fl := &follower{
		entries:  make(chan nginxlog.Entry, 100),
		unparsed: make(chan string, 100),
		polls:    make(chan struct{}, 1),
	}
	f.OnUnparsed = func(line string, err error) { fl.unparsed <- line }
	f.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	f = nginxlog.WithPollHook(f, func() {
		select {
		case fl.polls <- struct{}{}:
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, func(e nginxlog.Entry) { fl.entries <- e }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run() = %v; want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	// Wait for the first poll, so that "start at the end" means the end of
	// what the test wrote before starting.
	fl.waitPolls(t, 1)
	return fl
}

// waitPolls waits until the Follower has polled n more times.
func (fl *follower) waitPolls(t *testing.T, n int) {
	t.Helper()
	// Drop a poll signalled before the call, which may have started
	// before the caller's last write.
	select {
	case <-fl.polls:
	default:
	}
	for range n {
		select {
		case <-fl.polls:
		case <-time.After(5 * time.Second):
			t.Fatal("Follower stopped polling")
		}
	}
}

// conns waits for n entries and returns their connection numbers, sorted.
func (fl *follower) conns(t *testing.T, n int) []int64 {
	t.Helper()
	var got []int64
	for range n {
		select {
		case e := <-fl.entries:
			got = append(got, e.Conn)
		case <-time.After(5 * time.Second):
			t.Fatalf("got entries %v; timed out waiting for %d", got, n)
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	return got
}

// quiet checks that nothing is emitted for a few polls.
func (fl *follower) quiet(t *testing.T) {
	t.Helper()
	fl.waitPolls(t, 3)
	select {
	case e := <-fl.entries:
		t.Fatalf("unexpected entry %q", e.Raw)
	default:
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func wantConns(t *testing.T, got []int64, want ...int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("followed conns = %v; want %v", got, want)
	}
}

func TestFollowerAppendFromEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, logLine(1))
	fl := startFollower(t, nginxlog.Follower{Path: path, Location: fixedZone})
	appendFile(t, path, logLine(2)+logLine(3))
	wantConns(t, fl.conns(t, 2), 2, 3)
	fl.quiet(t)
}

func TestFollowerFromStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, logLine(1))
	fl := startFollower(t, nginxlog.Follower{Path: path, FromStart: true, Location: fixedZone})
	e := <-fl.entries
	if e.Conn != 1 || e.Cause != nginxlog.CauseRefused || e.Time.Location() != fixedZone {
		t.Errorf("Follow(%q) = conn %d cause %q zone %v; want 1, refused, %v", path, e.Conn, e.Cause, e.Time.Location(), fixedZone)
	}
}

func TestFollowerMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	fl := startFollower(t, nginxlog.Follower{Path: path})
	fl.quiet(t)
	// A file that appears after Run started is read from its beginning.
	appendFile(t, path, logLine(4))
	wantConns(t, fl.conns(t, 1), 4)
}

func TestFollowerPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	fl := startFollower(t, nginxlog.Follower{Path: path})
	line := logLine(5)
	appendFile(t, path, line[:40])
	fl.quiet(t)
	appendFile(t, path, line[40:])
	e := <-fl.entries
	if e.Raw != strings.TrimSuffix(line, "\n") || e.Host != "shop.example" {
		t.Errorf("Follow(partial line) = %q; want %q", e.Raw, line)
	}
}

// Started on a file whose last line is still being written, the follower
// skips that line's tail instead of reporting it as garbage.
func TestFollowerStartsMidLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	line := logLine(1)
	appendFile(t, path, logLine(9)+line[:30])
	fl := startFollower(t, nginxlog.Follower{Path: path})
	appendFile(t, path, line[30:]+logLine(2))
	wantConns(t, fl.conns(t, 1), 2)
	select {
	case l := <-fl.unparsed:
		t.Errorf("unparsed %q; want the partial line skipped", l)
	default:
	}
}

// logrotate's default: rename the file, create a new one, then signal nginx,
// which writes to the old file until it reopens its logs.
func TestFollowerRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "error.log")
	appendFile(t, path, "")
	fl := startFollower(t, nginxlog.Follower{Path: path, RotateGrace: time.Second})
	appendFile(t, path, logLine(1))
	wantConns(t, fl.conns(t, 1), 1)

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", logLine(2)) // before nginx reopens
	appendFile(t, path, logLine(3))      // the new file
	wantConns(t, fl.conns(t, 2), 2, 3)
	appendFile(t, path+".1", logLine(4)) // late write, within the grace
	appendFile(t, path, logLine(5))
	wantConns(t, fl.conns(t, 2), 4, 5)
	fl.quiet(t)
}

// Rotation where the new file only appears a few polls after the rename.
func TestFollowerRotateLateCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	fl := startFollower(t, nginxlog.Follower{Path: path})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", logLine(1))
	wantConns(t, fl.conns(t, 1), 1)
	appendFile(t, path, logLine(2))
	wantConns(t, fl.conns(t, 1), 2)
}

// logrotate's copytruncate: the same file shrinks to zero and nginx keeps
// appending to it.
func TestFollowerTruncate(t *testing.T) {
	tests := []struct {
		name  string
		after string // written after the truncation, before the next poll
	}{
		{"shorter than before", logLine(3)},
		{"longer than before", logLine(3) + logLine(4) + logLine(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "error.log")
			appendFile(t, path, "")
			// A slow poll, so that the truncation and the new lines land
			// between two polls: the hard case.
			fl := startFollower(t, nginxlog.Follower{Path: path, Interval: 100 * time.Millisecond})
			appendFile(t, path, logLine(1)+logLine(2))
			wantConns(t, fl.conns(t, 2), 1, 2)

			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, tt.after)
			n := strings.Count(tt.after, "\n")
			got := fl.conns(t, n)
			if got[0] != 3 || len(got) != n {
				t.Errorf("after truncation followed conns = %v; want 3.. (%d lines)", got, n)
			}
		})
	}
}

func TestFollowerLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	fl := startFollower(t, nginxlog.Follower{Path: path, MaxLineBytes: 300})
	long := strings.TrimSuffix(logLine(1), "\n") + strings.Repeat("x", 100000) + "\n"
	appendFile(t, path, long+logLine(2))
	first, second := <-fl.entries, <-fl.entries
	if len(first.Raw) != 300 || !first.Truncated || first.Conn != 1 {
		t.Errorf("Follow(long line) = len %d truncated %v conn %d; want 300, true, 1", len(first.Raw), first.Truncated, first.Conn)
	}
	if second.Conn != 2 || second.Truncated {
		t.Errorf("Follow(line after long line) = conn %d truncated %v; want 2, false", second.Conn, second.Truncated)
	}
}

func TestFollowerUnparsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	fl := startFollower(t, nginxlog.Follower{Path: path})
	appendFile(t, path, "garbage\n\n"+logLine(7))
	wantConns(t, fl.conns(t, 1), 7)
	if got := <-fl.unparsed; got != "garbage" {
		t.Errorf("OnUnparsed got %q; want %q", got, "garbage")
	}
}

// A Follower feeding an Index from another goroutine while it is read is
// the way the program uses them; run it under -race.
func TestFollowerIntoIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	ix := nginxlog.NewIndex(100)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// FromStart, so that the line is read however late Run starts.
		f := nginxlog.Follower{Path: path, Interval: 5 * time.Millisecond, FromStart: true}
		f.Run(ctx, ix.Add)
	}()
	defer func() { cancel(); wg.Wait() }()
	appendFile(t, path, logLine(42))
	deadline := time.Now().Add(5 * time.Second)
	for len(ix.Lookup(42)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Lookup(42) stayed empty after the line was written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := ix.Lookup(42)[0].Cause; got != nginxlog.CauseRefused {
		t.Errorf("Lookup(42)[0].Cause = %q; want %q", got, nginxlog.CauseRefused)
	}
}

// After RotateGrace the rotated-away file is closed: nginx has reopened its
// log by then, and whatever writes to the old name is not nginx.
func TestFollowerRotateGraceEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, path, "")
	const grace = 20 * time.Millisecond
	fl := startFollower(t, nginxlog.Follower{Path: path, RotateGrace: grace})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, logLine(1))
	wantConns(t, fl.conns(t, 1), 1)
	time.Sleep(grace)
	fl.waitPolls(t, 2)
	appendFile(t, path+".1", logLine(2))
	fl.quiet(t)
}
