package template

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// jsonSource names ParseJSON's input in error messages.
const jsonSource = "template JSON"

// Parse reads one template from YAML (or JSON, which is YAML) and validates
// it. source names the input in error messages, typically a file path.
//
// On any problem it returns a *ValidationError (matching
// ErrInvalidTemplate) that lists every problem found, sorted by path, with
// line numbers where known.
func Parse(data []byte, source string) (*Template, error) {
	c := &collector{}
	if len(data) > maxSourceBytes {
		c.addf("", "template is %d bytes; at most %d are allowed", len(data), maxSourceBytes)
		return nil, invalid(source, c, nil)
	}
	doc, ok := decodeYAML(data, c)
	if !ok {
		return nil, invalid(source, c, nil)
	}
	t := fromTree(doc.tree, c)
	if len(c.problems) > 0 {
		return nil, invalid(source, c, doc.lineFor)
	}
	return t, nil
}

// ParseJSON reads a template from JSON, such as the canonical form written
// by Template.MarshalJSON, and validates it exactly as Parse does. Numbers
// are decoded exactly. It returns a *ValidationError on any problem.
func ParseJSON(data []byte) (*Template, error) {
	c := &collector{}
	if len(data) > maxSourceBytes {
		c.addf("", "template is %d bytes; at most %d are allowed", len(data), maxSourceBytes)
		return nil, invalid(jsonSource, c, nil)
	}
	tree, ok := decodeJSON(data, c)
	if !ok {
		return nil, invalid(jsonSource, c, nil)
	}
	t := fromTree(tree, c)
	if len(c.problems) > 0 {
		return nil, invalid(jsonSource, c, nil)
	}
	return t, nil
}

// ParseFile reads and parses one template file. It returns the read error
// (wrapped) when the file cannot be read, else what Parse returns, with the
// path as the source.
func ParseFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return Parse(data, path)
}

// LoadDir parses every *.yaml and *.yml file under dir, recursively, skipping
// hidden files and directories. It returns the templates sorted by Key.
// When any file fails, or two files share a key, it returns no templates and
// an error joining one error per bad file (each a *ValidationError when the
// file could be read).
func LoadDir(dir string) ([]*Template, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		hidden := strings.HasPrefix(d.Name(), ".") && path != dir
		switch {
		case d.IsDir() && hidden:
			return filepath.SkipDir
		case d.IsDir() || hidden:
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load templates from %s: %w", dir, err)
	}
	var (
		templates []*Template
		errs      []error
		byKey     = map[string]string{}
	)
	for _, path := range paths {
		t, err := ParseFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := byKey[t.Key()]; dup {
			errs = append(errs, &ValidationError{Source: path, Problems: []Problem{{
				Message: fmt.Sprintf("template %s is also defined in %s", t.Key(), other),
			}}})
			continue
		}
		byKey[t.Key()] = path
		templates = append(templates, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(templates, func(a, b *Template) int { return strings.Compare(a.Key(), b.Key()) })
	return templates, nil
}

// fromTree normalizes a decoded document and builds the Template.
func fromTree(tree any, c *collector) *Template {
	n := &normalizer{c: c}
	norm := n.value("", tree, 0)
	if n.tooBig || n.tooDeep {
		return nil
	}
	return build(norm, c)
}

// invalid wraps the collected problems, sorted, with lines filled in when a
// line lookup is available.
func invalid(source string, c *collector, lineFor func(string) int) *ValidationError {
	ps := slices.Clone(c.problems)
	if lineFor != nil {
		for i := range ps {
			if ps[i].Line == 0 && ps[i].Path != "" {
				ps[i].Line = lineFor(ps[i].Path)
			}
		}
	}
	sortProblems(ps)
	return &ValidationError{Source: source, Problems: ps}
}
