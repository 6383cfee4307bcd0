package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// writeCalls are the system calls a server sends a response with.
var writeCalls = []string{"write", "writev", "sendto", "sendmsg", "sendfile", "sendfile64"}

// syscallResult is how many write calls each response took, counted by
// strace -c attached to the serving processes during a short, light wrk
// run (strace slows what it traces; the count, not the speed, is the
// point).
type syscallResult struct {
	target
	responses int64
	calls     map[string]int64
}

func (s syscallResult) perResponse() float64 {
	var n int64
	for _, c := range s.calls {
		n += c
	}
	if s.responses == 0 {
		return 0
	}
	return float64(n) / float64(s.responses)
}

// syscallTargets are the targets whose writes per response are counted:
// gatewatch's page, nginx's of the same bytes, and the net/http ceiling.
var syscallTargets = map[string]bool{"a": true, "h": true, "f": true}

// countWrites attaches strace to the processes serving t, runs wrk with 8
// connections for 3 s, and counts the write calls per response.
func countWrites(ctx context.Context, st *stack, t target, o options, log func(string, ...any)) (syscallResult, error) {
	r := syscallResult{target: t, calls: map[string]int64{}}
	if t.fixed {
		if err := st.startFixed(ctx); err != nil {
			return r, err
		}
	}
	var pids []int
	switch {
	case t.key == "b" || t.key == "h":
		pids = descendants(st.nginx.pid()) // the workers
	case t.fixed:
		pids = []int{st.fixed.pid()}
	default:
		pids = []int{st.gw.pid()}
	}
	out := filepath.Join(st.dir, "strace-"+t.key+".txt")
	args := []string{"-c", "-f", "-o", out, "-e", "trace=" + strings.Join(writeCalls, ",")}
	for _, p := range pids {
		args = append(args, "-p", strconv.Itoa(p))
	}
	cmd := exec.CommandContext(ctx, "strace", args...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("strace (apt-get install strace): %w", err)
	}
	if err := pause(ctx, time.Second); err != nil { // attach
		return r, err
	}
	script, err := writeWrkScript(st.dir, "strace-"+t.key, t.headers)
	if err != nil {
		return r, err
	}
	log("(%s) %s: counting write calls per response under strace", t.key, t.name)
	light := o
	light.connections, light.threads = 8, 1
	w, werr := runWrk(ctx, light, script, t.url, 3*time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if werr != nil {
		return r, werr
	}
	r.responses = w.requests
	f, err := os.Open(out)
	if err != nil {
		return r, err
	}
	defer f.Close()
	// strace -c's table: % time, seconds, usecs/call, calls, [errors,] syscall.
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		name := fs[len(fs)-1]
		for _, c := range writeCalls {
			if name == c {
				n, err := strconv.ParseInt(fs[3], 10, 64)
				if err != nil {
					return r, fmt.Errorf("strace line %q: %w", sc.Text(), err)
				}
				r.calls[name] += n
			}
		}
	}
	if len(r.calls) == 0 {
		return r, fmt.Errorf("strace counted no write calls for %s; see %s", t.key, out)
	}
	return r, pause(ctx, time.Second)
}

func writeSyscalls(w io.Writer, rs []syscallResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nWrite calls per response (strace -c on the serving processes, wrk -c8 for 3 s):\n\n")
	fmt.Fprintf(w, "| | target | responses | calls | per response |\n|---|---|---:|---|---:|\n")
	for _, r := range rs {
		var parts []string
		for _, c := range writeCalls {
			if n := r.calls[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", c, thousands(n)))
			}
		}
		fmt.Fprintf(w, "| (%s) | %s | %s | %s | %.2f |\n", r.key, r.name, thousands(r.responses), strings.Join(parts, ", "), r.perResponse())
	}
}
