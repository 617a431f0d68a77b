package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/template"
)

func newTemplatesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "templates",
		Aliases: []string{"template"},
		Short:   "Validate local template files, list registered templates, draw their graphs",
		RunE:    groupRunE,
	}
	cmd.AddCommand(newTemplatesValidateCmd(g), newTemplatesListCmd(g), newTemplatesGraphCmd(g), newTemplatesRegisterCmd(g))
	return cmd
}

// validation is the outcome of validating one file.
type validation struct {
	File     string    `json:"file"`
	OK       bool      `json:"ok"`
	Key      string    `json:"key,omitempty"`
	Steps    int       `json:"steps,omitempty"`
	Problems []problem `json:"problems,omitempty"`
	Error    string    `json:"error,omitempty"` // a file that could not be read
}

// problem is a template.Problem with JSON names.
type problem struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
}

func (p problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d)", p.Line)
	}
	return s
}

func newTemplatesValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH...",
		Short: "Validate template files, or every *.yaml and *.yml file under directories",
		Long: `Parses and validates each template. Prints "ok  <file>  <ns>/<name>:<version> (<n> steps)"
for a valid template and "<file>: <path>: <message>" for each problem of an invalid one.
Two files defining the same namespace/name:version are an error. Exits 1 if any file is invalid.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s needs at least one file or directory", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var results []validation
			for _, arg := range args {
				files, err := templateFiles(arg)
				if err != nil {
					results = append(results, validation{File: arg, Error: err.Error()})
					continue
				}
				for _, f := range files {
					results = append(results, validateFile(f))
				}
			}
			markDuplicates(results)
			bad := 0
			for _, r := range results {
				if !r.OK {
					bad++
				}
			}
			out := cmd.OutOrStdout()
			if g.json() {
				if err := writeJSON(out, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					printValidation(out, r)
				}
				fmt.Fprintf(out, "%d valid, %d invalid\n", len(results)-bad, bad)
			}
			if bad > 0 {
				return failed
			}
			return nil
		},
	}
}

// templateFiles returns path itself for a file, or the template files under
// a directory (recursively, skipping hidden entries), sorted.
func templateFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("no such file or directory")
		}
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no *.yaml or *.yml files in this directory")
	}
	slices.Sort(files)
	return files, nil
}

func validateFile(path string) validation {
	t, err := template.ParseFile(path)
	if err == nil {
		return validation{File: path, OK: true, Key: t.Key(), Steps: len(t.Steps)}
	}
	var verr *template.ValidationError
	if errors.As(err, &verr) {
		problems := make([]problem, 0, len(verr.Problems))
		for _, p := range verr.Problems {
			problems = append(problems, problem{Path: p.Path, Message: p.Message, Line: p.Line})
		}
		if len(problems) == 0 {
			problems = append(problems, problem{Message: "invalid template"})
		}
		return validation{File: path, Problems: problems}
	}
	return validation{File: path, Error: err.Error()}
}

// markDuplicates fails every file that defines a key an earlier file defined.
func markDuplicates(results []validation) {
	first := map[string]string{}
	for i := range results {
		r := &results[i]
		if !r.OK {
			continue
		}
		if other, dup := first[r.Key]; dup {
			r.OK = false
			r.Problems = []problem{{Message: fmt.Sprintf("template %s is also defined in %s", r.Key, other)}}
			continue
		}
		first[r.Key] = r.File
	}
}

func printValidation(w io.Writer, r validation) {
	switch {
	case r.OK:
		unit := "steps"
		if r.Steps == 1 {
			unit = "step"
		}
		fmt.Fprintf(w, "ok  %s  %s (%d %s)\n", r.File, r.Key, r.Steps, unit)
	case r.Error != "":
		fmt.Fprintf(w, "%s: %s\n", r.File, r.Error)
	default:
		for _, p := range r.Problems {
			fmt.Fprintf(w, "%s: %s\n", r.File, p)
		}
	}
}

func newTemplatesListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the templates registered with the API",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.ListTemplates(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout(), "NAMESPACE", "NAME", "VERSION", "STEPS", "DESCRIPTION")
			for _, t := range list {
				tw.row(t.Namespace, t.Name, t.Version, fmt.Sprint(t.StepCount), truncate(t.Description, 60))
			}
			return tw.flush()
		},
	}
}

// newTemplatesRegisterCmd registers template files with the API (needed in
// AWS, where nothing registers templates for you; `tasker dev` registers
// templates/ at start).
func newTemplatesRegisterCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "register FILE...",
		Short: "Register template files with the API (needs templates:register)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			for _, path := range args {
				t, err := template.ParseFile(path)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				body, err := json.Marshal(t)
				if err != nil {
					return err
				}
				sum, err := c.RegisterTemplate(cmd.Context(), body)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "registered %s/%s:%s (%d steps) from %s\n", sum.Namespace, sum.Name, sum.Version, sum.StepCount, path)
			}
			return nil
		},
	}
}
