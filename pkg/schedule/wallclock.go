package schedule

import "time"

// Wall-clock times are carried as time.Time values in UTC whose fields are
// the local fields; resolveWall turns one into an instant in a zone.

// wallClock returns t's wall-clock fields in loc, carried in UTC.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	y, mo, d := l.Date()
	h, mi, s := l.Clock()
	return time.Date(y, mo, d, h, mi, s, l.Nanosecond(), time.UTC)
}

// resolveWall returns the instant at which loc's clocks show wall. When the
// clocks skip wall (a daylight-saving gap) it returns false; when they show
// it twice (the hour repeated in autumn) it returns the first instant, as
// EventBridge Scheduler fires such a time once.
func resolveWall(wall time.Time, loc *time.Location) (time.Time, bool) {
	if loc == time.UTC {
		return wall, true
	}
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	guess := time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), loc)
	var best time.Time
	// The offsets in force a day either side cover both sides of any
	// transition: zones change offset at most a few times a year.
	for _, probe := range []time.Time{guess.Add(-24 * time.Hour), guess, guess.Add(24 * time.Hour)} {
		_, offset := probe.Zone()
		cand := wall.Add(-time.Duration(offset) * time.Second)
		if wallClock(cand, loc).Equal(wall) && (best.IsZero() || cand.Before(best)) {
			best = cand
		}
	}
	if best.IsZero() {
		return time.Time{}, false
	}
	return best.In(loc), true
}
