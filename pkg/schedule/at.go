package schedule

import (
	"fmt"
	"time"
)

// at fires once.
type at struct {
	expr string
	t    time.Time
}

const atLayout = "2006-01-02T15:04:05"

func parseAt(expr, body string, tz *time.Location) (Expression, error) {
	fail := func(format string, args ...any) (Expression, error) {
		return nil, &ExpressionError{Expr: expr, Problem: fmt.Sprintf(format, args...)}
	}
	if len(body) != len(atLayout) {
		return fail("want at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-03-01T09:30:00)")
	}
	wall, err := time.Parse(atLayout, body)
	if err != nil {
		return fail("%q is not a date and time of the form yyyy-mm-ddThh:mm:ss", body)
	}
	if y := wall.Year(); y < minYear || y > maxYear {
		return fail("year must be between %d and %d, got %d", minYear, maxYear, y)
	}
	t, ok := resolveWall(wall, tz)
	if !ok {
		return fail("%s does not exist in %s: the clocks skip it", body, tz)
	}
	return &at{expr: expr, t: t}, nil
}

// Next returns the one slot when it lies strictly after after.
func (a *at) Next(after time.Time) time.Time {
	if a.t.After(after) {
		return a.t
	}
	return time.Time{}
}

func (a *at) String() string { return a.expr }
