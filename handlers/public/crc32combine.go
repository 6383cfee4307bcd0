package public

// CRC-32 (IEEE, as gzip's trailer) of a concatenation from the parts'
// own CRCs, after zlib's crc32_combine (crc32.c, Mark Adler): appending n
// bytes to a message multiplies its CRC by x^(8n) modulo the polynomial,
// so crc(A‖B) = crc(A)·x^(8·len B) ⊕ crc(B). The operator x^(8·len B) is
// computed once per chunk (crc32shift); combining is one carry-less
// multiplication (mulModP), which spares checksumming the page's
// unchanging chunks on every request.

const crcPoly = 0xedb88320 // reflected IEEE polynomial

// mulModP is a·b modulo the polynomial, in the reflected bit order
// hash/crc32 uses (bit 31 is x^0).
func mulModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2n[k] is x^(2^k) modulo the polynomial.
var x2n = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = mulModP(p, p)
		t[k] = p
	}
	return t
}()

// crc32shift is x^(8n) modulo the polynomial: the operator that moves a
// CRC past n appended bytes.
func crc32shift(n int) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n > 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = mulModP(x2n[k&31], p)
		}
	}
	return p
}

// crc32combine is the CRC-32 of A‖B from crcA, crcB and crc32shift(len B).
func crc32combine(crcA, crcB, op uint32) uint32 { return mulModP(op, crcA) ^ crcB }
