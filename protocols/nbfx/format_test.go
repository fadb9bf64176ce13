// .NET's formatting of typed values, as tables: the strings are what
// XmlDictionaryReader returns for the same records (Double/Single "R",
// Decimal keeping its scale, XmlConvert's DateTime and xs:duration).

package nbfx

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func TestDouble(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-1.5, "-1.5"}, {0.1, "0.1"},
		{100, "100"}, {1e14, "100000000000000"}, {1e15, "1E+15"}, {1.5e-5, "1.5E-05"},
		{0.0001, "0.0001"}, {1.0 / 3, "0.33333333333333331"}, {math.E, "2.7182818284590451"},
		{math.Pi, "3.1415926535897931"}, {123456789012345678, "1.2345678901234568E+17"},
		{math.MaxFloat64, "1.7976931348623157E+308"}, {math.SmallestNonzeroFloat64, "4.94065645841247E-324"},
		{math.Inf(1), "INF"}, {math.Inf(-1), "-INF"}, {math.NaN(), "NaN"},
	} {
		if got := string(appendDouble(nil, c.f)); got != c.want {
			t.Errorf("double %v: got %s, want %s", c.f, got, c.want)
		}
	}
}

func TestFloat(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want string
	}{
		{1.1, "1.1"}, {32.45, "32.45"}, {math.MaxFloat32, "3.40282347E+38"}, {1e7, "1E+07"},
		{1234567, "1234567"}, {0.1, "0.1"}, {float32(math.Inf(-1)), "-INF"},
	} {
		if got := string(appendFloat32(nil, c.f)); got != c.want {
			t.Errorf("float %v: got %s, want %s", c.f, got, c.want)
		}
	}
}

func decimalBytes(scale byte, neg bool, hi uint32, lo uint64) []byte {
	p := make([]byte, 16)
	p[2] = scale
	if neg {
		p[3] = 0x80
	}
	binary.LittleEndian.PutUint32(p[4:], hi)
	binary.LittleEndian.PutUint64(p[8:], lo)
	return p
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want string
	}{
		{decimalBytes(2, false, 0, 510), "5.10"},
		{decimalBytes(1, true, 0, 5), "-0.5"},
		{decimalBytes(3, false, 0, 5), "0.005"},
		{decimalBytes(0, true, 0, 0), "0"},
		{decimalBytes(2, true, 0, 0), "0.00"},
		{decimalBytes(0, false, 1, 0), "18446744073709551616"},
		{decimalBytes(28, true, 0xFFFFFFFF, math.MaxUint64), "-7.9228162514264337593543950335"},
	} {
		got, ok := appendDecimal(nil, c.p)
		if !ok || string(got) != c.want {
			t.Errorf("decimal % X: got %s, %v; want %s", c.p, got, ok, c.want)
		}
	}
	for _, p := range [][]byte{decimalBytes(29, false, 0, 1), {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, ok := appendDecimal(nil, p); ok {
			t.Errorf("decimal % X accepted", p)
		}
	}
}

func TestDateTime(t *testing.T) {
	// 2006-05-17T00:00:00 is the example's value; others are offsets from it.
	const base = 0x08C8475BF98E4000
	est := time.FixedZone("EST", -5*3600)
	india := time.FixedZone("IST", 5*3600+1800)
	for _, c := range []struct {
		v    uint64
		loc  *time.Location
		want string
	}{
		{base, time.UTC, "2006-05-17T00:00:00"},
		{base + 5_000_000, time.UTC, "2006-05-17T00:00:00.5"},
		{base + 1, time.UTC, "2006-05-17T00:00:00.0000001"},
		{base + (13*3600+4*60+5)*ticksPerSecond | 1<<62, time.UTC, "2006-05-17T13:04:05Z"},
		// Local values carry UTC ticks and read as that instant in the zone.
		{base | 2<<62, est, "2006-05-16T19:00:00-05:00"},
		{base + 5_000_000 | 2<<62, india, "2006-05-17T05:30:00.5+05:30"},
		{0, time.UTC, "0001-01-01T00:00:00"},
		{maxDateTicks | 1<<62, time.UTC, "9999-12-31T23:59:59.9999999Z"},
	} {
		got, ok := appendDateTime(nil, c.v, c.loc)
		if !ok || string(got) != c.want {
			t.Errorf("datetime %#x: got %s, %v; want %s", c.v, got, ok, c.want)
		}
	}
	for _, v := range []uint64{maxDateTicks + 1, base | 3<<62} {
		if _, ok := appendDateTime(nil, v, time.UTC); ok {
			t.Errorf("datetime %#x accepted", v)
		}
	}
}

func TestTimeSpan(t *testing.T) {
	for _, c := range []struct {
		ticks int64
		want  string
	}{
		{0, "PT0S"}, {ticksPerDay, "P1D"}, {15 * ticksPerSecond / 10, "PT1.5S"}, {-1, "-PT0.0000001S"},
		{-344 * ticksPerSecond, "-PT5M44S"}, {12000 * ticksPerSecond, "PT3H20M"},
		{ticksPerDay + 3600*ticksPerSecond, "P1DT1H"},
		{math.MaxInt64, "P10675199DT2H48M5.4775807S"}, {math.MinInt64, "-P10675199DT2H48M5.4775808S"},
	} {
		if got := string(appendTimeSpan(nil, c.ticks)); got != c.want {
			t.Errorf("timespan %d: got %s, want %s", c.ticks, got, c.want)
		}
	}
}
