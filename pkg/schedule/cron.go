package schedule

import (
	"fmt"
	"strings"
	"time"
)

// The years a cron expression may name, as in EventBridge.
const (
	minYear = 1970
	maxYear = 2199
)

// cron fires at the wall-clock minutes its fields allow, in loc.
type cron struct {
	expr    string
	loc     *time.Location
	minutes bitset
	hours   bitset
	dom     bitset // 1-31
	months  bitset // 1-12
	dow     bitset // 1-7, SUN-SAT
	years   bitset // offsets from minYear (yearField.offset)
	// anyDOM is set when day-of-month is "?": day-of-week decides the day.
	anyDOM bool
}

var (
	monthNames   = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	weekdayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

var (
	minutesField = fieldSpec{name: "minutes", min: 0, max: 59}
	hoursField   = fieldSpec{name: "hours", min: 0, max: 23}
	domField     = fieldSpec{name: "day-of-month", min: 1, max: 31, question: true, lastWeekday: true}
	monthField   = fieldSpec{name: "month", min: 1, max: 12, names: monthNames}
	dowField     = fieldSpec{name: "day-of-week", min: 1, max: 7, names: weekdayNames, question: true, lastWeekday: true}
	yearField    = fieldSpec{name: "year", min: minYear, max: maxYear, offset: minYear}
)

const cronShape = "minutes hours day-of-month month day-of-week year"

func parseCron(expr, body string, tz *time.Location) (Expression, error) {
	parts := strings.Fields(body)
	if len(parts) != 6 {
		return nil, &ExpressionError{Expr: expr, Problem: fmt.Sprintf("has %d fields; cron needs 6: %s", len(parts), cronShape)}
	}
	c := &cron{expr: expr, loc: tz}
	specs := []fieldSpec{minutesField, hoursField, domField, monthField, dowField, yearField}
	sets := []*bitset{&c.minutes, &c.hours, &c.dom, &c.months, &c.dow, &c.years}
	question := make([]bool, 6)
	for i, spec := range specs {
		set, q, err := spec.parse(parts[i])
		if err != nil {
			err.Expr = expr
			return nil, err
		}
		question[i] = q
		*sets[i] = set
	}
	switch dom, dow := question[2], question[4]; {
	case !dom && !dow:
		return nil, &ExpressionError{Expr: expr, Field: "day-of-month and day-of-week", Problem: `one of them must be "?"`}
	case dom && dow:
		return nil, &ExpressionError{Expr: expr, Field: "day-of-month and day-of-week", Problem: `only one of them may be "?"`}
	}
	c.anyDOM = question[2]
	return c, nil
}

func (c *cron) String() string { return c.expr }

// Next walks wall-clock time in c.loc, skipping whole years, months, days
// and hours that cannot match, and returns the first matching minute whose
// instant lies strictly after after.
func (c *cron) Next(after time.Time) time.Time {
	w := wallClock(after, c.loc).Truncate(time.Minute).Add(time.Minute)
	if w.Year() < minYear {
		w = time.Date(minYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	for w.Year() <= maxYear {
		y, mo, d := w.Date()
		h, mi := w.Hour(), w.Minute()
		switch {
		case !c.years.has(y - minYear):
			ny := c.years.next(y - minYear + 1)
			if ny < 0 {
				return time.Time{}
			}
			w = time.Date(minYear+ny, time.January, 1, 0, 0, 0, 0, time.UTC)
		case !c.months.has(int(mo)):
			w = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(w):
			w = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case !c.hours.has(h):
			w = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
		case !c.minutes.has(mi):
			if nm := c.minutes.next(mi + 1); nm >= 0 && nm < 60 {
				w = time.Date(y, mo, d, h, nm, 0, 0, time.UTC)
			} else {
				w = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
			}
		default:
			if t, ok := resolveWall(w, c.loc); ok && t.After(after) {
				return t
			}
			w = w.Add(time.Minute)
		}
	}
	return time.Time{}
}

func (c *cron) dayMatches(w time.Time) bool {
	if c.anyDOM {
		return c.dow.has(int(w.Weekday()) + 1)
	}
	return c.dom.has(w.Day())
}
