package nginxlog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Defaults for Follower's zero fields.
const (
	DefaultInterval     = 250 * time.Millisecond
	DefaultMaxLineBytes = 16 << 10
	DefaultRotateGrace  = 5 * time.Second
)

// Follower follows an nginx error.log by polling, like tail -F: it notices
// logrotate's rename-and-create (the path names a different file) and
// copytruncate (the file shrank), and waits for a file that does not exist
// yet. Polling rather than inotify keeps it portable and cheap at nginx's
// write rates, and never misses a rotation that happened between events.
//
// The zero value of every field but Path is usable. Run does not modify the
// Follower.
type Follower struct {
	// Path is the file named in [nginx] error_log.
	Path string
	// Location is the nginx host's time zone, for ParseLine; nil means UTC.
	Location *time.Location
	// Interval is how often the file is checked (DefaultInterval if zero).
	Interval time.Duration
	// FromStart reads the file present when Run starts from its beginning
	// instead of its end. Files that appear later are always read whole.
	FromStart bool
	// MaxLineBytes bounds one line (DefaultMaxLineBytes if zero). Longer
	// lines are cut to this length and marked Truncated; the rest of the
	// line is skipped, never buffered.
	MaxLineBytes int
	// RotateGrace is how long a rotated-away file is still read
	// (DefaultRotateGrace if zero): nginx keeps writing to it until it
	// reopens its logs on USR1, which logrotate sends after creating the
	// new file.
	RotateGrace time.Duration
	// OnUnparsed, if set, receives lines ParseLine rejects, with the error.
	OnUnparsed func(line string, err error)
	// OnError, if set, receives errors opening or reading the file (not
	// "does not exist"). Run keeps polling after them; a repeated error is
	// reported once until it changes or the file reads again.
	OnError func(err error)

	// polled, if set, is called after every poll; tests use it to know
	// that the file was looked at instead of sleeping and hoping.
	polled func()
}

// Run follows the file and calls fn with each parsed line, in the calling
// goroutine, until ctx is done; it then returns ctx.Err(). fn should be
// quick (Index.Add is); the file is not read while fn runs.
func (f *Follower) Run(ctx context.Context, fn func(Entry)) error {
	r := &follow{cfg: *f, fn: fn}
	if r.cfg.Interval <= 0 {
		r.cfg.Interval = DefaultInterval
	}
	if r.cfg.MaxLineBytes <= 0 {
		r.cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if r.cfg.RotateGrace <= 0 {
		r.cfg.RotateGrace = DefaultRotateGrace
	}
	r.buf = make([]byte, 32<<10)
	r.check = make([]byte, seenBytes)
	defer r.closeAll()

	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	first := true
	for {
		r.poll(first, time.Now())
		first = false
		if r.cfg.polled != nil {
			r.cfg.polled()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// follow is the state of one Run.
type follow struct {
	cfg      Follower
	fn       func(Entry)
	buf      []byte // read buffer, reused
	check    []byte // for truncated, reused
	cur      *tailFile
	old      *tailFile // the rotated-away file, read until oldUntil
	oldUntil time.Time
	lastErr  string
}

// tailFile is one open file and the line being assembled from it.
type tailFile struct {
	file *os.File
	info fs.FileInfo // from the open descriptor, for os.SameFile
	off  int64       // next byte to read
	line []byte      // the current line so far, at most MaxLineBytes
	cut  bool        // the current line overflowed; skip to its newline
	skip bool        // started mid-line; skip to the first newline
	seen []byte      // the last bytes read, up to t.off
}

func (r *follow) poll(first bool, now time.Time) {
	if r.old != nil {
		r.read(r.old)
		if now.After(r.oldUntil) {
			r.flush(r.old)
			r.old.file.Close()
			r.old = nil
		}
	}

	fi, err := os.Stat(r.cfg.Path)
	switch {
	case err != nil:
		if !errors.Is(err, fs.ErrNotExist) {
			r.report(err)
		}
		// Renamed away and not yet recreated: nginx still writes to the
		// file we hold, so keep reading it.
		if r.cur != nil {
			r.read(r.cur)
		}
	case r.cur == nil:
		r.cur = r.open(first && !r.cfg.FromStart)
		if r.cur != nil {
			r.read(r.cur)
		}
	case !os.SameFile(r.cur.info, fi):
		r.read(r.cur)
		if r.old != nil {
			r.flush(r.old)
			r.old.file.Close()
		}
		r.old, r.oldUntil = r.cur, now.Add(r.cfg.RotateGrace)
		r.cur = r.open(false)
		if r.cur != nil {
			r.read(r.cur)
		}
	default:
		if r.truncated(r.cur) {
			// copytruncate: nginx appends (O_APPEND) at the new, smaller
			// end, so start over from the beginning.
			c := r.cur
			c.off, c.line, c.seen, c.cut, c.skip = 0, c.line[:0], c.seen[:0], false, false
		}
		r.read(r.cur)
	}
}

// seenBytes is how much of what was last read a tailFile remembers to
// recognise its file being rewritten: nginx's longest line (2048 bytes), so
// the comparison spans at least one whole line with its time and number.
const seenBytes = 2048

// truncated reports whether t's file was truncated since it was last read:
// it is shorter than what was read, or, when nginx has already written past
// that point again, the bytes before t.off are no longer those read there.
func (r *follow) truncated(t *tailFile) bool {
	st, err := t.file.Stat()
	if err != nil {
		return false
	}
	if st.Size() < t.off {
		return true
	}
	if len(t.seen) == 0 {
		return false
	}
	now := r.check[:len(t.seen)]
	if _, err := t.file.ReadAt(now, t.off-int64(len(t.seen))); err != nil {
		return false
	}
	return !bytes.Equal(now, t.seen)
}

// remember keeps the last seenBytes bytes read from t.
func (t *tailFile) remember(p []byte) {
	if len(p) >= seenBytes {
		t.seen = append(t.seen[:0], p[len(p)-seenBytes:]...)
		return
	}
	if drop := len(t.seen) + len(p) - seenBytes; drop > 0 {
		t.seen = t.seen[:copy(t.seen, t.seen[drop:])]
	}
	t.seen = append(t.seen, p...)
}

// open opens the path; atEnd starts at its end, skipping a partial last
// line so that its tail is not mistaken for a line of its own.
func (r *follow) open(atEnd bool) *tailFile {
	file, err := os.Open(r.cfg.Path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.report(err)
		}
		return nil
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		r.report(err)
		return nil
	}
	t := &tailFile{file: file, info: info}
	if atEnd && info.Size() > 0 {
		t.off = info.Size()
		seen := make([]byte, min(t.off, seenBytes))
		if _, err := file.ReadAt(seen, t.off-int64(len(seen))); err == nil {
			t.remember(seen)
			t.skip = seen[len(seen)-1] != '\n'
		}
	}
	return t
}

// read reads t to its current end, emitting complete lines.
func (r *follow) read(t *tailFile) {
	for {
		n, err := t.file.ReadAt(r.buf, t.off)
		if n > 0 {
			t.off += int64(n)
			t.remember(r.buf[:n])
			r.consume(t, r.buf[:n])
		}
		if err == io.EOF || (err == nil && n == 0) {
			r.lastErr = ""
			return
		}
		if err != nil {
			r.report(err)
			return
		}
	}
}

// consume splits p into lines, keeping at most MaxLineBytes of each.
func (r *follow) consume(t *tailFile, p []byte) {
	for len(p) > 0 {
		chunk, rest, nl := bytes.Cut(p, []byte{'\n'})
		p = rest
		if t.skip {
			t.skip = !nl
			continue
		}
		if !t.cut {
			if room := r.cfg.MaxLineBytes - len(t.line); len(chunk) > room {
				chunk, t.cut = chunk[:room], true
			}
			t.line = append(t.line, chunk...)
		}
		if nl {
			r.emit(string(t.line), t.cut)
			t.line, t.cut = t.line[:0], false
		}
	}
}

// flush emits the unfinished line of a file about to be closed; nginx
// writes whole lines, so one found here was cut.
func (r *follow) flush(t *tailFile) {
	r.read(t)
	if len(t.line) > 0 && !t.skip {
		r.emit(string(t.line), true)
	}
	t.line, t.cut = t.line[:0], false
}

func (r *follow) emit(line string, cut bool) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return
	}
	e, err := ParseLine(line, r.cfg.Location)
	if err != nil {
		if r.cfg.OnUnparsed != nil {
			r.cfg.OnUnparsed(line, err)
		}
		return
	}
	e.Truncated = e.Truncated || cut
	r.fn(e)
}

func (r *follow) report(err error) {
	if r.cfg.OnError == nil || err.Error() == r.lastErr {
		return
	}
	r.lastErr = err.Error()
	r.cfg.OnError(err)
}

func (r *follow) closeAll() {
	for _, t := range []*tailFile{r.cur, r.old} {
		if t != nil {
			t.file.Close()
		}
	}
}
