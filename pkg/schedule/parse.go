package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Expression is a parsed schedule expression.
type Expression interface {
	// Next returns the first slot strictly after after, or the zero time
	// when there is none (a past at(), or a cron whose years have run out).
	Next(after time.Time) time.Time
	// String returns the expression as written.
	String() string
}

// maxExprLen is EventBridge Scheduler's limit on ScheduleExpression.
const maxExprLen = 256

// Parse reads an EventBridge Scheduler expression: rate(value unit),
// cron(minutes hours day-of-month month day-of-week year) or
// at(yyyy-mm-ddThh:mm:ss). Cron fields and at() times are read in tz (UTC
// when nil); a rate is the same in every zone.
//
// It returns an *ExpressionError (matching ErrInvalidExpression, and
// ErrUnsupported for L, W and #) that names the field at fault.
func Parse(expr string, tz *time.Location) (Expression, error) {
	if tz == nil {
		tz = time.UTC
	}
	if len(expr) > maxExprLen {
		return nil, &ExpressionError{Expr: expr, Problem: fmt.Sprintf("is %d characters long; at most %d are allowed", len(expr), maxExprLen)}
	}
	kind, body, ok := splitCall(expr)
	switch {
	case ok && kind == "rate":
		return parseRate(expr, body, tz)
	case ok && kind == "cron":
		return parseCron(expr, body, tz)
	case ok && kind == "at":
		return parseAt(expr, body, tz)
	}
	return nil, &ExpressionError{Expr: expr, Problem: "want rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"}
}

// splitCall splits "name(body)" into name and body.
func splitCall(expr string) (name, body string, ok bool) {
	open := strings.IndexByte(expr, '(')
	if open < 0 || !strings.HasSuffix(expr, ")") {
		return "", "", false
	}
	return expr[:open], expr[open+1 : len(expr)-1], true
}
