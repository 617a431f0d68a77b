// Command tasker is Tasker's command-line tool: it validates workflow
// templates and draws their graphs, creates, inspects, watches and operates
// tasks through the HTTP API (cancel, pause, resume, manual step actions,
// the dead-letter queue), and runs the whole system locally (`tasker dev`,
// `tasker demo`).
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
	startPprof()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run executes the command line and returns the exit code. Errors are
// printed to stderr as "error: ...".
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(getenv, stderr)
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
			fmt.Fprintln(stderr, "Is the API running? Start one with 'tasker dev', or point --api (or $"+envAPIURL+", or api_url in the config file) at it.")
		}
	}
	return code
}

// globals holds the global flags and what they resolve to.
type globals struct {
	apiURL     string
	apiKey     string
	output     string
	configPath string

	getenv func(string) string
	stderr io.Writer
	// conn is the API's URL and key after flags, environment and config
	// file are combined; connErr is why that failed.
	conn    connection
	connErr error
}

// client returns a client for the resolved API, or the configuration error
// (a usage error naming the flag, variable or file at fault).
func (g *globals) client() (*client.Client, error) {
	if g.connErr != nil {
		return nil, g.connErr
	}
	opts := []client.Option{client.WithUserAgent("tasker-cli")}
	if g.conn.apiKey != "" {
		opts = append(opts, client.WithAPIKey(g.conn.apiKey))
	}
	return client.New(g.conn.apiURL, opts...), nil
}

func (g *globals) json() bool { return g.output == "json" }

// actor is who the CLI reports as the operator of an action: --by, else
// $USER, else "tasker-cli".
func (g *globals) actor(by string) string {
	switch {
	case by != "":
		return by
	case g.getenv("USER") != "":
		return g.getenv("USER")
	}
	return "tasker-cli"
}

func newRootCmd(getenv func(string) string, stderr io.Writer) *cobra.Command {
	g := &globals{getenv: getenv, stderr: stderr}
	root := &cobra.Command{
		Use:   "tasker",
		Short: "Tasker: a serverless DAG workflow orchestrator on AWS",
		Long: `tasker validates workflow templates, creates, inspects and operates tasks through Tasker's
HTTP API, and runs the whole system locally.

The API is found at --api, else $` + envAPIURL + `, else api_url in the config file, else
` + defaultAPIURL + `. The API key likewise: --api-key, $` + envAPIKey + `, api_key. The config file
is --config, else ` + "`$XDG_CONFIG_HOME/tasker/config.yaml`" + ` or ~/.config/tasker/config.yaml:

  api_url: https://tasker.example.com
  api_key: tk_...`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "table" && g.output != "json" {
				return usageErrorf("--output: must be table or json, got %q", g.output)
			}
			g.conn, g.connErr = resolveConnection(cmd.Flags(), g)
			return nil
		},
		RunE: groupRunE,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.apiURL, "api", defaultAPIURL, "base URL of the Tasker API (env "+envAPIURL+", config api_url)")
	pf.StringVar(&g.apiKey, "api-key", "", "API key sent as X-API-Key (env "+envAPIKey+", config api_key)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&g.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/tasker/config.yaml or ~/.config/tasker/config.yaml)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	root.AddCommand(newTemplatesCmd(g), newTaskCmd(g), newStepCmd(g), newDLQCmd(g), newDevCmd(), newDemoCmd(), newBenchCmd(), newAuthCmd())
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
