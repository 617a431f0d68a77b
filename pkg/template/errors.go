package template

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidTemplate is matched (errors.Is) by every *ValidationError.
var ErrInvalidTemplate = errors.New("invalid template")

// ErrInvalidContext is matched (errors.Is) by every *ContextError.
var ErrInvalidContext = errors.New("invalid task context")

// Problem is one thing wrong with a template.
type Problem struct {
	// Path locates the offending value, e.g. "steps[2].retry.max_attempts";
	// empty for problems with the document as a whole.
	Path string
	// Message says what is wrong.
	Message string
	// Line is the 1-based line in the YAML source, or 0 when unknown
	// (always 0 for ParseJSON).
	Line int
}

// String formats the problem as "<path>: <message>".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError reports every problem found in one template source.
// Problems are sorted by path, so the message does not depend on map order.
type ValidationError struct {
	// Source names what was parsed: a file path, or the source given to Parse.
	Source   string
	Problems []Problem
}

// Error lists each problem on its own line as "<source>: <path>: <message>",
// followed by " (line N)" when the line is known.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Source)
		b.WriteString(": ")
		b.WriteString(p.String())
		if p.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", p.Line)
		}
	}
	if len(e.Problems) == 0 {
		b.WriteString(e.Source + ": invalid template")
	}
	return b.String()
}

// Is reports whether target is ErrInvalidTemplate.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidTemplate }

// ContextError says why a task's context does not satisfy the template's
// input schema.
type ContextError struct {
	// Field is a JSON pointer to the offending value ("/" for the whole
	// context). For a missing required property it names that property,
	// e.g. "/even_number".
	Field string
	// Reason is a readable explanation, e.g. "must be >= 2 but found 1".
	Reason string
}

// Error formats the error as "invalid task context: <field>: <reason>".
func (e *ContextError) Error() string {
	return "invalid task context: " + e.Field + ": " + e.Reason
}

// Is reports whether target is ErrInvalidContext.
func (e *ContextError) Is(target error) bool { return target == ErrInvalidContext }
