package public

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
)

// A gzip body spliced from parts: the page's fixed chunks deflated once
// at preparation, and each request's few values as stored (uncompressed)
// deflate blocks between them (RFC 1951 3.2.4). Every part ends on a byte
// boundary, so the parts concatenate into one valid stream; the trailer's
// CRC-32 and length cover the uncompressed page.

// gzipHeader is a gzip member header: deflate, no name, no time, OS unknown.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// finalBlock is an empty stored block with BFINAL set.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// maxStored is the most one stored block may hold.
const maxStored = 0xffff

// deflate compresses each chunk on its own, ending with a sync flush.
func (p *prepared) deflate() { p.deflated = deflateChunks(p.chunks...) }

// deflateChunks compresses each chunk on its own, each ended with a sync
// flush: byte-aligned, not final, so that they splice.
func deflateChunks(chunks ...[]byte) [][]byte {
	out := make([][]byte, len(chunks))
	// One compressor for all chunks: each costs about a megabyte.
	zw, _ := flate.NewWriter(nil, flate.BestCompression)
	for i, c := range chunks {
		var buf bytes.Buffer
		zw.Reset(&buf)
		zw.Write(c)
		zw.Flush() // byte-aligns with an empty stored block; not final
		out[i] = buf.Bytes()
	}
	return out
}

// appendGzip appends the page for f to b as a gzip member. scratch is a
// buffer for the request's values, returned grown for reuse.
func (p *prepared) appendGzip(b, scratch []byte, f *fill) (out, scratchOut []byte) {
	b = append(b, gzipHeader...)
	crc := uint32(0)
	size := 0
	for i, s := range p.slots {
		b = append(b, p.deflated[i]...)
		crc = crc32.Update(crc, crc32.IEEETable, p.chunks[i])
		size += len(p.chunks[i])
		if s == slotVerdict && f.verdictZ != nil {
			crc = crc32.Update(crc, crc32.IEEETable, f.verdict)
			size += len(f.verdict)
			b = append(b, f.verdictZ...)
			continue
		}
		if s == slotAnnounce && f.announceZ != nil {
			crc = crc32.Update(crc, crc32.IEEETable, f.announce)
			size += len(f.announce)
			b = append(b, f.announceZ...)
			continue
		}
		scratch = p.appendSlot(scratch[:0], s, f)
		crc = crc32.Update(crc, crc32.IEEETable, scratch)
		size += len(scratch)
		b = appendStored(b, scratch)
	}
	last := len(p.chunks) - 1
	b = append(b, p.deflated[last]...)
	crc = crc32.Update(crc, crc32.IEEETable, p.chunks[last])
	size += len(p.chunks[last])
	b = append(b, finalBlock...)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	return b, scratch
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
