package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat;
// it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// usage is a process tree's resident memory and CPU time at one moment.
type usage struct {
	rssKB int64
	cpu   time.Duration
}

// treeUsage sums VmRSS and utime+stime over pid and its descendants (nginx's
// master and workers). Processes that vanish meanwhile are skipped.
func treeUsage(pid int) usage {
	var u usage
	for _, p := range descendants(pid) {
		u.rssKB += vmRSS(p)
		u.cpu += cpuTime(p)
	}
	return u
}

// descendants returns pid and every process below it, from /proc.
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(p); ok {
			parent[p] = pp
		}
	}
	out := []int{pid}
	// Walk down level by level; a tree deeper than a few levels is not
	// nginx's or gatewatch's.
	for range 4 {
		grew := false
		for p, pp := range parent {
			if slices.Contains(out, pp) && !slices.Contains(out, p) {
				out = append(out, p)
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name,
// which may itself contain spaces and parentheses.
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func ppid(pid int) (int, bool) {
	f := statFields(pid)
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// cpuTime is utime+stime (fields 14 and 15 of stat; 12 and 13 after the
// name).
func cpuTime(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// vmRSS reads VmRSS from /proc/PID/status, in kB.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// memTrace is a process tree's RSS before, at its highest during, and after
// a run, and the CPU it used during the run.
type memTrace struct {
	startKB, peakKB, endKB int64
	cpu                    time.Duration
	wall                   time.Duration
}

// cpuPercent is CPU time over wall time; 200 is both cores busy.
func (m memTrace) cpuPercent() float64 {
	if m.wall <= 0 {
		return 0
	}
	return 100 * m.cpu.Seconds() / m.wall.Seconds()
}

// sampler polls a process tree's usage every interval until stopped.
type sampler struct {
	pid    int
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time
	first  usage

	mu     sync.Mutex
	peakKB int64 // guarded by mu
}

// startSampler begins sampling pid's tree every 100 ms.
func startSampler(ctx context.Context, pid int) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{pid: pid, cancel: cancel, start: time.Now()}
	s.first = treeUsage(pid)
	s.peakKB = s.first.rssKB
	s.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				u := treeUsage(pid)
				s.mu.Lock()
				s.peakKB = max(s.peakKB, u.rssKB)
				s.mu.Unlock()
			}
		}
	})
	return s
}

// stop ends sampling and returns the trace.
func (s *sampler) stop() memTrace {
	s.cancel()
	s.wg.Wait()
	end := treeUsage(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	return memTrace{
		startKB: s.first.rssKB,
		peakKB:  max(s.peakKB, end.rssKB),
		endKB:   end.rssKB,
		cpu:     end.cpu - s.first.cpu,
		wall:    time.Since(s.start),
	}
}

// machineBusy is the CPU time all cores have spent on anything but idling
// and waiting for I/O since boot, from the first line of /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal: skip idle and iowait.
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// timeWaitOn counts the TCP connections in TIME_WAIT whose local or
// remote port is port, from /proc/net/tcp and tcp6.
func timeWaitOn(port int) int {
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			fields := strings.Fields(line)
			// sl local_address rem_address st …; addresses are HEX:PORT.
			if len(fields) < 4 || fields[3] != "06" {
				continue
			}
			for _, addr := range fields[1:3] {
				if _, p, ok := strings.Cut(addr, ":"); ok {
					if v, err := strconv.ParseInt(p, 16, 32); err == nil && int(v) == port {
						n++
						break
					}
				}
			}
		}
	}
	return n
}
