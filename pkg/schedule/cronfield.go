package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// fieldSpec describes one cron field.
type fieldSpec struct {
	name     string
	min, max int
	// names spell the values min, min+1, … (JAN-DEC, SUN-SAT).
	names []string
	// question allows "?" (day-of-month and day-of-week).
	question bool
	// lastWeekday marks the fields where EventBridge accepts L, W and #.
	lastWeekday bool
	// offset is subtracted from values before they go into a bitset, so
	// that years fit.
	offset int
}

func (f fieldSpec) fail(format string, args ...any) *ExpressionError {
	return &ExpressionError{Field: f.name, Problem: fmt.Sprintf(format, args...)}
}

// parse reads a field: "?", or a comma-separated list of "*", "a", "a-b",
// each optionally followed by "/step". It reports whether the field was "?".
func (f fieldSpec) parse(text string) (bitset, bool, *ExpressionError) {
	var set bitset
	if text == "?" {
		if !f.question {
			return set, false, f.fail(`"?" is allowed only in day-of-month and day-of-week`)
		}
		return set, true, nil
	}
	for _, item := range strings.Split(text, ",") {
		if err := f.unsupported(item); err != nil {
			return set, false, err
		}
		if err := f.item(item, &set); err != nil {
			return set, false, err
		}
	}
	return set, false, nil
}

// unsupported rejects EventBridge's L, W and # in a list item with a clear
// message.
func (f fieldSpec) unsupported(item string) *ExpressionError {
	if !f.lastWeekday {
		return nil
	}
	var what string
	switch {
	case strings.Contains(item, "#"):
		what = `"#" (the nth weekday of the month)`
	case f.name == domField.name && strings.Contains(item, "W"):
		what = `"W" (the nearest weekday)`
	case f.name == domField.name && strings.Contains(item, "L"),
		f.name == dowField.name && strings.HasSuffix(item, "L"):
		what = `"L" (the last day)`
	default:
		return nil
	}
	err := f.fail("%s is not supported; list the days instead", what)
	err.Unsupported = true
	return err
}

// item adds one list item to set.
func (f fieldSpec) item(item string, set *bitset) *ExpressionError {
	if item == "" {
		return f.fail("empty list item")
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || !isDigits(stepText) {
			return f.fail("step %q is not a number", stepText)
		}
		if span := f.max - f.min + 1; n < 1 || n > span {
			return f.fail("step must be between 1 and %d, got %d", span, n)
		}
		step = n
	}
	lo, hi, err := f.bounds(base, hasStep)
	if err != nil {
		return err
	}
	for v := lo; v <= hi; v += step {
		set.set(v - f.offset)
	}
	return nil
}

// bounds reads "*", "a" or "a-b". With a step, "a" runs to the field's end.
func (f fieldSpec) bounds(base string, hasStep bool) (int, int, *ExpressionError) {
	if base == "*" {
		return f.min, f.max, nil
	}
	loText, hiText, isRange := strings.Cut(base, "-")
	lo, err := f.value(loText)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		if hasStep {
			return lo, f.max, nil
		}
		return lo, lo, nil
	}
	hi, err := f.value(hiText)
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		numeric := isDigits(loText)
		return 0, 0, f.fail("range %s runs backwards; write it as %s-%s,%s-%s", base, loText, f.spell(f.max, numeric), f.spell(f.min, numeric), hiText)
	}
	return lo, hi, nil
}

// value reads a number or, in month and day-of-week, a name.
func (f fieldSpec) value(text string) (int, *ExpressionError) {
	if isDigits(text) {
		n, err := strconv.Atoi(text)
		if err != nil || n < f.min || n > f.max {
			return 0, f.fail("%s is out of range %d-%d", text, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if text == name {
			return f.min + i, nil
		}
		if strings.EqualFold(text, name) {
			return 0, f.fail("%q: write names in upper case (%s)", text, name)
		}
	}
	switch {
	case text == "":
		return 0, f.fail("missing value")
	case f.names != nil:
		return 0, f.fail("%q is not a number %d-%d or a name %s-%s", text, f.min, f.max, f.names[0], f.names[len(f.names)-1])
	default:
		return 0, f.fail("%q is not a number %d-%d", text, f.min, f.max)
	}
}

// spell writes a value as a number, or as a name when the field has names
// and numeric is false.
func (f fieldSpec) spell(v int, numeric bool) string {
	if f.names != nil && !numeric {
		return f.names[v-f.min]
	}
	return strconv.Itoa(v)
}
