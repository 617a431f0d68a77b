package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// rate fires every period, at the Unix epoch plus a whole number of periods.
type rate struct {
	expr   string
	period int64 // seconds
	loc    *time.Location
}

// maxRateSeconds keeps rate periods to 100 years, far from overflow.
const maxRateSeconds = 100 * 365 * 24 * 60 * 60

var rateUnits = map[string]struct {
	seconds  int64
	singular string
	plural   string
}{
	"minute": {60, "minute", "minutes"}, "minutes": {60, "minute", "minutes"},
	"hour": {3600, "hour", "hours"}, "hours": {3600, "hour", "hours"},
	"day": {86400, "day", "days"}, "days": {86400, "day", "days"},
}

func parseRate(expr, body string, tz *time.Location) (Expression, error) {
	fail := func(field, format string, args ...any) (Expression, error) {
		return nil, &ExpressionError{Expr: expr, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	parts := strings.Fields(body)
	if len(parts) != 2 {
		return fail("", "want rate(value unit), e.g. rate(5 minutes), rate(1 hour) or rate(2 days)")
	}
	value, unitName := parts[0], parts[1]
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 1 || !isDigits(value) {
		return fail("value", "must be a whole number of at least 1, got %q", value)
	}
	unit, known := rateUnits[unitName]
	switch {
	case !known:
		return fail("unit", "must be minute(s), hour(s) or day(s), got %q", unitName)
	case n == 1 && unitName != unit.singular:
		return fail("unit", "must be singular (%q) when the value is 1", unit.singular)
	case n > 1 && unitName != unit.plural:
		return fail("unit", "must be plural (%q) when the value is greater than 1", unit.plural)
	case n > maxRateSeconds/unit.seconds:
		return fail("value", "%d %s is longer than 100 years", n, unitName)
	}
	return &rate{expr: expr, period: n * unit.seconds, loc: tz}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Next returns the first multiple of the period after the epoch that lies
// strictly after after.
func (r *rate) Next(after time.Time) time.Time {
	s := after.Unix() // floor: the nanoseconds of a time are never negative
	k := s / r.period
	if s%r.period < 0 {
		k--
	}
	if k >= math.MaxInt64/r.period-1 {
		return time.Time{}
	}
	return time.Unix((k+1)*r.period, 0).In(r.loc)
}

func (r *rate) String() string { return r.expr }
