package template

import (
	"fmt"
	"regexp"
)

// Limits on a template source and on the names that become keys. A hostile
// document (deep nesting, alias bombs, thousands of steps) is rejected
// cheaply with a *ValidationError naming the limit; docs/templates.md and
// docs/security.md list them.
const (
	// maxSourceBytes bounds a template source (YAML or JSON).
	maxSourceBytes = 512 << 10
	// maxValueNodes bounds the values of a decoded document; YAML aliases
	// count each time they are used.
	maxValueNodes = 100_000
	// maxValueDepth bounds the nesting of a decoded document.
	maxValueDepth = 128
	// maxSteps bounds the steps of one template.
	maxSteps = 1000
	// maxSchedules bounds the schedules of one template.
	maxSchedules = 100
	// maxNamespaceLen keeps "<prefix>-steps-<namespace>-dlq" within SQS's
	// 80-character queue names.
	maxNamespaceLen = 29
	// maxNameLen bounds a template name.
	maxNameLen = 255
	// maxVersionLen bounds a template version.
	maxVersionLen = 50
)

// Names that become DynamoDB keys (TPL#<namespace>/<name>, V#<version>,
// S#<step>) or SQS queue names (<prefix>-steps-<namespace>) match these
// patterns: none contains '#' or '/', the separators of composite keys.
var (
	namespacePattern    = regexp.MustCompile(`^[a-z0-9_]{1,29}$`)
	namePattern         = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
	stepNamePattern     = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	versionPattern      = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	scheduleNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// CheckNamespace returns an error saying why ns cannot be a template's
// namespace (1 to 29 lower-case letters, digits or '_'), or nil.
func CheckNamespace(ns string) error {
	if !namespacePattern.MatchString(ns) {
		return fmt.Errorf("%s must be 1 to %d lower-case letters, digits or '_'", quoteShort(ns), maxNamespaceLen)
	}
	return nil
}

// CheckName returns an error saying why name cannot be a template's name
// (1 to 255 letters, digits, '_', '.' or '-'), or nil.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%s must be 1 to %d letters, digits, '_', '.' or '-'", quoteShort(name), maxNameLen)
	}
	return nil
}

// CheckVersion returns an error saying why v cannot be a template version
// (MAJOR.MINOR[.PATCH][-pre.release], at most 50 characters), or nil.
func CheckVersion(v string) error {
	if len(v) > maxVersionLen || !versionPattern.MatchString(v) {
		return fmt.Errorf("%s is not a version: use MAJOR.MINOR or MAJOR.MINOR.PATCH, optionally with a pre-release, at most %d characters", quoteShort(v), maxVersionLen)
	}
	return nil
}
