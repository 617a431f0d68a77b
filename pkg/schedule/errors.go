package schedule

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// ErrInvalidExpression is matched (errors.Is) by every *ExpressionError.
var ErrInvalidExpression = errors.New("invalid schedule expression")

// ErrUnsupported is matched (errors.Is) by an *ExpressionError for syntax
// that EventBridge accepts but this package does not evaluate (L, W and #).
var ErrUnsupported = errors.New("unsupported schedule expression")

// ExpressionError says why Parse rejected an expression.
type ExpressionError struct {
	// Expr is the expression as given.
	Expr string
	// Field names the part at fault: a cron field ("minutes", "hours",
	// "day-of-month", "month", "day-of-week", "year", or "day-of-month and
	// day-of-week"), "value" or "unit" of a rate, or "" for the whole expression.
	Field string
	// Problem says what is wrong.
	Problem string
	// Unsupported marks syntax EventBridge accepts but this package does not.
	Unsupported bool
}

// Error formats the error as "<expression>: <field>: <problem>", leaving out
// the field when there is none.
func (e *ExpressionError) Error() string {
	s := displayExpr(e.Expr) + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Problem
}

// Is reports whether target is ErrInvalidExpression, or ErrUnsupported for
// unsupported syntax.
func (e *ExpressionError) Is(target error) bool {
	return target == ErrInvalidExpression || (e.Unsupported && target == ErrUnsupported)
}

// displayExpr shows a readable expression as written and quotes anything
// else (control characters, odd spaces, very long input).
func displayExpr(s string) string {
	const limit = 80
	if len(s) <= limit {
		plain := s != "" && strings.TrimSpace(s) == s
		for _, r := range s {
			if r != ' ' && (!unicode.IsPrint(r) || unicode.IsSpace(r)) {
				plain = false
				break
			}
		}
		if plain {
			return s
		}
	}
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return strconv.Quote(s)
}
