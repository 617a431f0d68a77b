// Command tasker is Tasker's command-line tool: it validates workflow
// templates, creates and inspects tasks through the HTTP API, and runs the
// whole system locally (`tasker dev`, `tasker demo`).
//
// Exit codes: 0 success, 1 failure (an API error, an invalid template, a
// task that did not complete), 2 usage error (a bad flag or argument).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/client"
)

// Environment variables the global flags default to.
const (
	envAPIURL = "TASKER_API_URL"
	envAPIKey = "TASKER_API_KEY"
)

const defaultAPIURL = "http://127.0.0.1:8080"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run executes the command line and returns the exit code. Errors are
// printed to stderr as "error: ...".
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(getenv)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		code = exit.code
		err = exit.err
	case isCobraUsageError(err):
		code = 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %s\n", err)
		if code == 2 {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintln(stderr, "Is the API running? Start one with 'tasker dev', or point --api (or $"+envAPIURL+") at it.")
		}
	}
	return code
}

// globals holds the global flags.
type globals struct {
	apiURL string
	apiKey string
	output string
}

func (g *globals) client() *client.Client {
	var opts []client.Option
	if g.apiKey != "" {
		opts = append(opts, client.WithAPIKey(g.apiKey))
	}
	opts = append(opts, client.WithUserAgent("tasker-cli"))
	return client.New(g.apiURL, opts...)
}

func (g *globals) json() bool { return g.output == "json" }

func newRootCmd(getenv func(string) string) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "tasker",
		Short: "Tasker: a serverless DAG workflow orchestrator on AWS",
		Long: `tasker validates workflow templates, creates and inspects tasks through Tasker's HTTP API,
and runs the whole system locally.

The API is found at --api (default: $` + envAPIURL + ` or ` + defaultAPIURL + `).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if g.output != "table" && g.output != "json" {
				return usageErrorf("--output: must be table or json, got %q", g.output)
			}
			return nil
		},
		RunE: groupRunE,
	}
	apiDefault := getenv(envAPIURL)
	if apiDefault == "" {
		apiDefault = defaultAPIURL
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.apiURL, "api", apiDefault, "base URL of the Tasker API (env "+envAPIURL+")")
	pf.StringVar(&g.apiKey, "api-key", getenv(envAPIKey), "API key sent as X-API-Key (env "+envAPIKey+")")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	root.AddCommand(newTemplatesCmd(g), newTaskCmd(g), newDevCmd(), newDemoCmd(), newBenchCmd())
	return root
}

// groupRunE serves commands that only group subcommands: an unknown
// subcommand is a usage error; no subcommand prints the help.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	_ = cmd.Help()
	return &exitError{code: 2}
}

// exitError carries an exit code. A nil err means the command already
// reported the problem.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns a usage error (exit code 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// failed is the error of a command that printed its own report and must
// exit 1.
var failed = &exitError{code: 1}

// isCobraUsageError recognizes the usage errors cobra builds itself.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// args returns a positional-argument validator that names the arguments.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("%s takes %d argument(s): %s; got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
