// How .NET's XmlDictionaryReader turns typed text records into characters
// (XmlConverter/XmlConvert), so a value reads the same whichever encoding
// the peer chose. Where [MC-NBFX] prose and .NET disagree we follow .NET,
// which the specification's own examples in section 3 also show: DateTime
// always carries its time ("2006-05-17T00:00:00"), TimeSpan is an
// xs:duration ("-PT5M44S"), and decimals keep their scale ("5.10").

package nbfx

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"time"
)

// appendDouble formats f as .NET Framework's and Mono's Double.ToString("R")
// does: 15 significant digits if they read back as f, else 17; "INF",
// "-INF", "NaN" and "-0" as XmlConvert.
func appendDouble(b []byte, f float64) []byte {
	return appendFloat(b, f, 64, 15, 17)
}

// appendFloat32 is Single.ToString("R"): 7 digits, else 9.
func appendFloat32(b []byte, f float32) []byte {
	return appendFloat(b, float64(f), 32, 7, 9)
}

func appendFloat(b []byte, f float64, bits, short, long int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "INF"...)
	case math.IsInf(f, -1):
		return append(b, "-INF"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	prec := short
	if v, err := strconv.ParseFloat(strconv.FormatFloat(f, 'e', short-1, bits), bits); err != nil || v != f {
		prec = long
	}
	return appendG(b, f, bits, prec)
}

// appendG is .NET's "G<prec>" for a finite non-zero value: the digits
// without trailing zeros, positional when the exponent is in
// (-5, prec), else d.dddE+XX with at least two exponent digits.
func appendG(b []byte, f float64, bits, prec int) []byte {
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', prec-1, bits) // [-]d.ddddde[+-]XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	ei := 0
	for ei < len(e) && e[ei] != 'e' {
		ei++
	}
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	var digs [24]byte
	nd := 0
	for _, c := range e[:ei] {
		if c != '.' {
			digs[nd] = c
			nd++
		}
	}
	for nd > 1 && digs[nd-1] == '0' {
		nd--
	}
	d := digs[:nd]
	if exp > -5 && exp < prec {
		switch {
		case exp < 0:
			b = append(b, '0', '.')
			for i := 0; i < -exp-1; i++ {
				b = append(b, '0')
			}
			b = append(b, d...)
		case exp+1 >= len(d):
			b = append(b, d...)
			for i := len(d); i <= exp; i++ {
				b = append(b, '0')
			}
		default:
			b = append(b, d[:exp+1]...)
			b = append(b, '.')
			b = append(b, d[exp+1:]...)
		}
		return b
	}
	b = append(b, d[0])
	if len(d) > 1 {
		b = append(b, '.')
		b = append(b, d[1:]...)
	}
	b = append(b, 'E')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendDecimal formats a 16-byte System.Decimal ([MS-OAUT] 2.2.26: wReserved,
// scale, sign, Hi32, Lo64, all little-endian) as Decimal.ToString does:
// every digit of the scale kept. It reports false for a scale over 28 or a
// bad sign byte.
func appendDecimal(b []byte, p []byte) ([]byte, bool) {
	scale, sign := int(p[2]), p[3]
	if scale > 28 || (sign != 0 && sign != 0x80) {
		return b, false
	}
	hi := binary.LittleEndian.Uint32(p[4:8])
	lo := binary.LittleEndian.Uint64(p[8:16])
	var digits []byte
	var tmp [32]byte
	if hi == 0 {
		digits = strconv.AppendUint(tmp[:0], lo, 10)
	} else {
		// Rare: values over 2^64 take the slow path.
		var v big.Int
		v.SetUint64(uint64(hi))
		v.Lsh(&v, 64)
		v.Or(&v, new(big.Int).SetUint64(lo))
		digits = v.Append(tmp[:0], 10)
	}
	if sign != 0 && !(hi == 0 && lo == 0) { // .NET prints no "-" for a zero
		b = append(b, '-')
	}
	if scale == 0 {
		return append(b, digits...), true
	}
	if len(digits) <= scale {
		b = append(b, '0', '.')
		for i := len(digits); i < scale; i++ {
			b = append(b, '0')
		}
		return append(b, digits...), true
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...), true
}

const (
	ticksPerSecond = 10_000_000
	ticksPerDay    = 86400 * ticksPerSecond
	maxDateTicks   = 3155378975999999999 // 9999-12-31T23:59:59.9999999
	// unixTicks is 1970-01-01 in ticks from 0001-01-01.
	unixTicks = 621355968000000000
)

// appendDateTime formats a DateTimeText value as XmlConverter:
// yyyy-MM-ddTHH:mm:ss, then .fffffff without trailing zeros if there is a
// fraction, then "Z" for UTC (TZ 1) or the offset of loc for local time
// (TZ 2). A local value carries UTC ticks, as DateTime.ToBinary writes it,
// and reads as that instant in loc: .NET's DateTime.FromBinary, which Mono
// was checked against (the specification's text suggests wall-clock ticks).
// It reports false for an out-of-range value or TZ 3.
func appendDateTime(b []byte, v uint64, loc *time.Location) ([]byte, bool) {
	ticks, tz := int64(v&(1<<62-1)), v>>62
	if ticks > maxDateTicks || tz == 3 {
		return b, false
	}
	frac := ticks % ticksPerSecond
	t := time.Unix(ticks/ticksPerSecond-unixTicks/ticksPerSecond, 0).UTC()
	if tz == 2 {
		t = t.In(loc)
	}
	y, mo, d := t.Date()
	if y < 1 || y > 9999 { // moved out of range by the offset
		return b, false
	}
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(mo), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, t.Hour(), 2)
	b = append(b, ':')
	b = appendPad(b, t.Minute(), 2)
	b = append(b, ':')
	b = appendPad(b, t.Second(), 2)
	b = appendFraction(b, frac, 7)
	switch tz {
	case 1:
		b = append(b, 'Z')
	case 2:
		_, off := t.Zone()
		if off < 0 {
			b = append(b, '-')
			off = -off
		} else {
			b = append(b, '+')
		}
		b = appendPad(b, off/3600, 2)
		b = append(b, ':')
		b = appendPad(b, off/60%60, 2)
	}
	return b, true
}

// appendFraction appends "." and frac as a width-digit fraction without
// trailing zeros, or nothing for zero.
func appendFraction(b []byte, frac int64, width int) []byte {
	if frac == 0 {
		return b
	}
	for width > 0 && frac%10 == 0 {
		frac /= 10
		width--
	}
	b = append(b, '.')
	return appendPad(b, int(frac), width)
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendTimeSpan formats ticks as XmlConvert.ToString(TimeSpan): an
// xs:duration, [-]P[nD][T[nH][nM][n[.fffffff]S]], "PT0S" for zero.
func appendTimeSpan(b []byte, ticks int64) []byte {
	u := uint64(ticks)
	if ticks < 0 {
		b = append(b, '-')
		u = uint64(-ticks) // MinInt64 wraps to itself, which as uint64 is right
	}
	b = append(b, 'P')
	days := u / ticksPerDay
	u %= ticksPerDay
	h, m := u/(3600*ticksPerSecond), u/(60*ticksPerSecond)%60
	s, frac := u/ticksPerSecond%60, u%ticksPerSecond
	if days != 0 {
		b = strconv.AppendUint(b, days, 10)
		b = append(b, 'D')
	}
	if u != 0 {
		b = append(b, 'T')
		if h != 0 {
			b = strconv.AppendUint(b, h, 10)
			b = append(b, 'H')
		}
		if m != 0 {
			b = strconv.AppendUint(b, m, 10)
			b = append(b, 'M')
		}
		if s != 0 || frac != 0 {
			b = strconv.AppendUint(b, s, 10)
			b = appendFraction(b, int64(frac), 7)
			b = append(b, 'S')
		}
	}
	if b[len(b)-1] == 'P' {
		b = append(b, 'T', '0', 'S')
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendGUID formats 16 bytes in Guid's layout (Data1, Data2, Data3
// little-endian, Data4 as is) as Guid.ToString(): lower case with dashes.
func appendGUID(b []byte, p []byte) []byte {
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	for i, j := range order {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[p[j]>>4], hexDigits[p[j]&15])
	}
	return b
}

// appendBase64 appends p in standard, padded base64, as Convert.ToBase64String.
func appendBase64(b []byte, p []byte) []byte {
	return base64.StdEncoding.AppendEncode(b, p)
}
