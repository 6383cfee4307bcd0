package public

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"golang.org/x/time/rate"

	"github.com/gatewatch/gatewatch/internal/cache"
)

// A gzip body spliced from parts: the page's fixed chunks deflated once,
// and each request's few values as stored (uncompressed) deflate blocks
// between them (RFC 1951 3.2.4). Every part ends on a byte boundary, so
// the parts concatenate into one valid stream; the trailer's CRC-32 and
// length cover the uncompressed page, the CRC combined from each chunk's
// own (crc32combine).
//
// The chunks come deflated in one of two ways:
//
//   - each on its own (prepared.deflated), valid whatever the values
//     between them: no chunk may refer back into another, so each starts
//     without context and with a Huffman table of its own;
//   - all in one stream (a framing), with the request values' places held
//     by filler bytes of their lengths while compressing: later chunks
//     refer back into earlier ones at the distances the real page has,
//     never into a value (the filler, 0x00, occurs in no chunk, so no
//     match can cover it). That is valid for any values of those lengths,
//     so a framing is kept per page and set of value lengths, and about a
//     quarter smaller: the English page is about 3.9 KB instead of 5.1.
//
// A request whose lengths have no framing yet is served from the chunks
// deflated on their own, and asks for its framing, built in the
// background at a bounded rate (framer): a storm of varied URLs costs a
// few framings a second, not a compression per request.

// gzipHeader is a gzip member header: deflate, no name, no time, OS unknown.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// finalBlock is an empty stored block with BFINAL set.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// maxStored is the most one stored block may hold.
const maxStored = 0xffff

// filler holds a request value's place while a framing is compressed.
const filler = 0x00

// deflate compresses each chunk on its own, ending with a sync flush, and
// keeps each chunk's CRC-32 and its combining operator.
func (p *prepared) deflate() {
	p.deflated = deflateChunks(p.chunks...)
	p.crcs = make([]uint32, len(p.chunks))
	p.ops = make([]uint32, len(p.chunks))
	for i, c := range p.chunks {
		p.crcs[i], p.ops[i] = crc32.ChecksumIEEE(c), crc32shift(len(c))
	}
	p.frameable = len(p.slots) <= maxFramedSlots
	for _, c := range p.chunks {
		p.frameable = p.frameable && bytes.IndexByte(c, filler) < 0
	}
}

// compressors are flate writers for preparing pages and framings: each
// costs about a megabyte to make.
var compressors = sync.Pool{New: func() any { zw, _ := flate.NewWriter(nil, flate.BestCompression); return zw }}

// deflateChunks compresses each chunk on its own, each ended with a sync
// flush: byte-aligned, not final, so that they splice.
func deflateChunks(chunks ...[]byte) [][]byte {
	out := make([][]byte, len(chunks))
	zw := compressors.Get().(*flate.Writer)
	defer compressors.Put(zw)
	for i, c := range chunks {
		var buf bytes.Buffer
		zw.Reset(&buf)
		zw.Write(c)
		zw.Flush() // byte-aligns with an empty stored block; not final
		out[i] = buf.Bytes()
	}
	return out
}

// maxFramedSlots is the most slots a page may have for framings; the
// error page has about twenty.
const maxFramedSlots = 32

// lengths are a request's value lengths, slot by slot: what a framing is
// valid for.
type lengths [maxFramedSlots]uint16

// framing is a page's chunks deflated in one stream for one set of value
// lengths: chunk i is data[ends[i-1]:ends[i]].
type framing struct {
	data []byte
	ends []int32
}

func (z *framing) chunk(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = z.ends[i-1]
	}
	return z.data[start:z.ends[i]]
}

// frame compresses the page's chunks in one stream, each value's place
// held by n[i] filler bytes.
func (p *prepared) frame(n *lengths) *framing {
	zw := compressors.Get().(*flate.Writer)
	defer compressors.Put(zw)
	var out bytes.Buffer
	z := &framing{ends: make([]int32, len(p.chunks))}
	zw.Reset(&out)
	fill := bytes.Repeat([]byte{filler}, 256)
	for i, c := range p.chunks {
		zw.Write(c)
		zw.Flush()
		z.ends[i] = int32(out.Len())
		if i == len(p.slots) {
			break
		}
		// The filler's own output is dropped: the request's value takes
		// its place as a stored block. The compressor keeps it as history
		// of the right length.
		mark := out.Len()
		for k := int(n[i]); k > 0; k -= len(fill) {
			zw.Write(fill[:min(k, len(fill))])
		}
		zw.Flush()
		out.Truncate(mark)
	}
	z.data = bytes.Clone(out.Bytes())
	return z
}

// framedKey names a page's framing for one set of value lengths.
type framedKey struct {
	p *prepared
	n lengths
}

// maxFramings bounds the framings kept (about 4 KB each).
const maxFramings = 256

// framer keeps framings and builds missing ones in the background, at
// most framingsPerSecond (each takes about a millisecond of CPU).
type framer struct {
	cache *cache.Cache[framedKey, *framing]
	allow *rate.Limiter
}

const framingsPerSecond = 20

func newFramer() *framer {
	return &framer{
		cache: cache.New[framedKey, *framing](maxFramings),
		allow: rate.NewLimiter(framingsPerSecond, framingsPerSecond),
	}
}

// get returns the framing for p and n, or nil after asking for it.
func (fr *framer) get(p *prepared, n *lengths) *framing {
	if z, ok := fr.cache.Get(framedKey{p: p, n: *n}); ok {
		return z
	}
	if fr.allow.Allow() {
		k := &framedKey{p: p, n: *n} // on the heap only when building
		go fr.cache.Fill(*k, func() (*framing, error) { return k.p.frame(&k.n), nil })
	}
	return nil
}

// values are one request's slot values rendered in turn: value i is
// buf[ends[i-1]:ends[i]] (the verdict and the announcements stay in the
// fill). Reused across requests.
type values struct {
	buf  []byte
	ends []int
}

func (v *values) at(i int) []byte {
	start := 0
	if i > 0 {
		start = v.ends[i-1]
	}
	return v.buf[start:v.ends[i]]
}

// appendGzip appends the page for f to b as a gzip member, framed when fr
// has the framing for these values' lengths (fr may be nil).
func (p *prepared) appendGzip(b []byte, vs *values, f *fill, fr *framer) []byte {
	// The values first, to know their lengths.
	vs.buf, vs.ends = vs.buf[:0], vs.ends[:0]
	var n lengths
	frameable := p.frameable && fr != nil
	for i, s := range p.slots {
		l := 0
		if v, _ := section(s, f); v != nil {
			l = len(v)
		} else {
			before := len(vs.buf)
			vs.buf = p.appendSlot(vs.buf, s, f)
			l = len(vs.buf) - before
		}
		vs.ends = append(vs.ends, len(vs.buf))
		if frameable = frameable && l <= 0xffff; frameable {
			n[i] = uint16(l)
		}
	}
	var z *framing
	if frameable {
		z = fr.get(p, &n)
	}
	chunk := func(i int) []byte {
		if z != nil {
			return z.chunk(i)
		}
		return p.deflated[i]
	}
	b = append(b, gzipHeader...)
	crc, size := uint32(0), 0
	for i, s := range p.slots {
		b = append(b, chunk(i)...)
		crc = crc32combine(crc, p.crcs[i], p.ops[i])
		size += len(p.chunks[i])
		v, vz := section(s, f)
		if v == nil {
			v = vs.at(i)
		}
		crc = crc32.Update(crc, crc32.IEEETable, v)
		size += len(v)
		if vz != nil {
			b = append(b, vz...)
		} else {
			b = appendStored(b, v)
		}
	}
	last := len(p.chunks) - 1
	b = append(b, chunk(last)...)
	crc = crc32combine(crc, p.crcs[last], p.ops[last])
	size += len(p.chunks[last])
	b = append(b, finalBlock...)
	b = binary.LittleEndian.AppendUint32(b, crc)
	return binary.LittleEndian.AppendUint32(b, uint32(size))
}

// section is the verdict's or the announcements' HTML and its own
// deflated form, which splice in whole; nil for the other slots.
func section(s slot, f *fill) (html, deflated []byte) {
	switch {
	case s == slotVerdict && f.verdictZ != nil:
		return f.verdict, f.verdictZ
	case s == slotAnnounce && f.announceZ != nil:
		return f.announce, f.announceZ
	}
	return nil, nil
}

// appendStored appends data as stored deflate blocks (none when empty).
func appendStored(b, data []byte) []byte {
	for len(data) > 0 {
		n := min(len(data), maxStored)
		b = append(b, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return b
}
