// The 7-bit variable-length size encoding of [MC-NMF] section 2.2.2: the low
// seven bits first, the high bit set on every byte but the last, at most five
// bytes, values 0 to 2^31-1.

package nmf

// MaxSize is the largest size a record can carry.
const MaxSize = 1<<31 - 1

// AppendSize appends n (0 <= n <= MaxSize) in the 7-bit encoding.
func AppendSize(b []byte, n int) []byte {
	if n < 0 || n > MaxSize {
		panic("nmf: size out of range")
	}
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// SizeLen returns how many bytes AppendSize uses for n.
func SizeLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

// sizeReader decodes one size across calls.
type sizeReader struct {
	val   uint32
	shift uint
}

// feed consumes one byte; done reports a complete value. A fifth byte
// carrying more than the top bits of a 31-bit value is an error.
func (s *sizeReader) feed(c byte) (val int, done bool, err *Error) {
	if s.shift == 28 && c > 0x07 {
		*s = sizeReader{}
		return 0, false, errorf(FaultInvalidRecordSequence, "size encoding longer than 31 bits")
	}
	s.val |= uint32(c&0x7f) << s.shift
	if c&0x80 != 0 {
		s.shift += 7
		return 0, false, nil
	}
	v := int(s.val)
	*s = sizeReader{}
	return v, true, nil
}

// DecodeSize decodes one size from the start of p. It returns the value and
// the bytes used, 0 bytes if p holds only part of it, or an error.
func DecodeSize(p []byte) (int, int, error) {
	var s sizeReader
	for i, c := range p {
		v, done, err := s.feed(c)
		if err != nil {
			return 0, 0, err
		}
		if done {
			return v, i + 1, nil
		}
	}
	return 0, 0, nil
}
