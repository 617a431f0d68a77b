package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/demo"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/telemetry"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

type devFlags struct {
	apiAddr   string
	awsAddr   string
	endpoint  string
	templates string
	prefix    string
	noWorkers bool
	logLevel  string
	tel       telemetryFlags
	insecure  bool
}

// authFor returns the API's authenticator: from TASKER_API_KEYS / JWT
// settings when given, else one generated key with every permission
// (returned, to print), or none with --insecure.
func (f *devFlags) authFor() (*auth.Authenticator, string, error) {
	if f.insecure {
		return nil, "", nil
	}
	cfg, err := auth.ConfigFromEnv()
	key := ""
	if err != nil || (len(cfg.APIKeys) == 0 && cfg.JWT == nil && !cfg.Disabled) {
		if cfg, key, err = auth.DevConfig(); err != nil {
			return nil, "", err
		}
	}
	a, err := auth.New(cfg)
	return a, key, err
}

func (f *devFlags) register(cmd *cobra.Command, apiDefault, awsDefault string) {
	cmd.Flags().StringVar(&f.apiAddr, "api-addr", apiDefault, "listen address of the HTTP API")
	cmd.Flags().StringVar(&f.awsAddr, "aws-addr", awsDefault, "listen address of the embedded local AWS (LocalStack's port by default)")
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "use a running AWS endpoint (e.g. LocalStack at http://localhost:4566) instead of the embedded one")
	cmd.Flags().StringVar(&f.templates, "templates", "templates", "directory of workflow templates to register")
	cmd.Flags().StringVar(&f.prefix, "prefix", "tasker", "prefix of table and queue names")
	level := "warn"
	if v := os.Getenv(telemetry.EnvLogLevel); v != "" {
		level = v
	}
	cmd.Flags().StringVar(&f.logLevel, "log-level", level, "log level: debug, info, warn, error ($TASKER_LOG_LEVEL sets the default)")
}

func (f *devFlags) start(ctx context.Context) (*devstack.Stack, []*template.Template, string, error) {
	tpls, err := template.LoadDir(f.templates)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--templates %s: %w", f.templates, err)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, nil, "", fmt.Errorf("--log-level: %w", err)
	}
	log, err := f.tel.logger(lvl)
	if err != nil {
		return nil, nil, "", err
	}
	var reg *worker.Registry
	if !f.noWorkers {
		reg = worker.NewRegistry()
		samplehandlers.Register(reg)
	}
	a, key, err := f.authFor()
	if err != nil {
		return nil, nil, "", fmt.Errorf("auth: %w", err)
	}
	o := devstack.Options{
		AWS:    localstack.Options{Addr: f.awsAddr, Endpoint: f.endpoint, Quiet: true},
		Prefix: f.prefix, Templates: tpls, Registry: reg, APIAddr: f.apiAddr, Logger: log, Auth: a,
	}
	if o.Telemetry, err = f.tel.setup(ctx); err != nil {
		return nil, nil, "", err
	}
	st, err := devstack.Start(ctx, o)
	if err != nil {
		_ = f.tel.shutdown()
	}
	return st, tpls, key, err
}

func newDevCmd() *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole system locally: embedded AWS, functions, API and sample workers",
		Long: `Runs Tasker on this machine: the embedded local AWS (DynamoDB and SQS, on 127.0.0.1:4566),
the state table and queues, the intake, scheduler, results and sweeper functions driven by local
event sources that behave like Lambda's, the HTTP API on 127.0.0.1:8080, and in-process workers
for the sample templates' handlers. Ctrl-C stops it cleanly: in-flight work finishes first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, tpls, key, err := f.start(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "tasker dev is running\n  API:       %s\n  local AWS: %s (AWS_ENDPOINT_URL=%s)\n  prefix:    %s\n  templates: %d registered from %s\n",
				st.APIURL, st.Env.Endpoint, st.Env.Endpoint, st.Names.Prefix, len(tpls), f.templates)
			switch {
			case f.insecure:
				fmt.Fprintf(out, "  auth:      OFF (--insecure): anyone on this machine can use the API\n")
			case key != "":
				fmt.Fprintf(out, "  API key:   %s\n             export TASKER_API_KEY=%s\n", key, key)
			default:
				fmt.Fprintf(out, "  auth:      keys/JWT from the environment (TASKER_API_KEYS, TASKER_JWT_*)\n")
			}
			f.tel.describe(out, st.APIURL)
			if localstack.DataDir() != "" {
				fmt.Fprintf(out, "  state persisted in %s\n", localstack.DataDir())
			}
			fmt.Fprintf(out, "Try: tasker task create fulfillment/order_fulfillment --wait --context '%s'\nCtrl-C to stop.\n",
				`{"order_id":"ORD-1","customer_id":"C-1","items":[{"sku":"A","quantity":1}],"amount":10}`)
			<-ctx.Done()
			fmt.Fprintln(out, "stopping: letting in-flight work finish…")
			return errors.Join(st.Close(), f.tel.shutdown())
		},
	}
	f.register(cmd, "127.0.0.1:8080", localstack.DefaultAddr)
	cmd.Flags().BoolVar(&f.noWorkers, "no-workers", false, "run no in-process workers (bring your own)")
	f.tel.register(cmd)
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "serve the API without authentication (otherwise a key is generated and printed, or TASKER_API_KEYS is used)")
	return cmd
}

func newDemoCmd() *cobra.Command {
	var f devFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the sample workflows end to end on the embedded local AWS and report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			ok, err := runDemo(ctx, cmd.OutOrStdout(), f)
			if err != nil {
				return err
			}
			if !ok {
				return errDemoFailed
			}
			return nil
		},
	}
	f.register(cmd, "127.0.0.1:0", "127.0.0.1:0")
	_ = cmd.Flags().Set("log-level", "error")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	return cmd
}

var errDemoFailed = errors.New("demo: some sample tasks did not reach their expected final state")

func runDemo(ctx context.Context, out io.Writer, f devFlags) (bool, error) {
	progress := demo.NewProgress(out)
	tpls, err := template.LoadDir(f.templates)
	if err != nil {
		return false, fmt.Errorf("--templates %s: %w", f.templates, err)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return false, fmt.Errorf("--log-level: %w", err)
	}
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	goTpls, tsTpls := demo.SplitTemplates(tpls)
	acfg, key, err := auth.DevConfig()
	if err != nil {
		return false, err
	}
	authn, err := auth.New(acfg)
	if err != nil {
		return false, err
	}
	st, err := devstack.Start(ctx, devstack.Options{Auth: authn,
		AWS:    localstack.Options{Addr: f.awsAddr, Endpoint: f.endpoint, Quiet: true},
		Prefix: f.prefix, Templates: goTpls, Registry: reg, APIAddr: f.apiAddr, Notify: progress.Notify,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
	})
	if err != nil {
		return false, err
	}
	defer st.Close()
	stopTS, err := demo.StartTypeScriptWorker(ctx, out, st, tsTpls, reg, filepath.Join(f.templates, "..", "sdk", "typescript"))
	if err != nil {
		return false, err
	}
	defer stopTS()
	fmt.Fprintf(out, "Tasker demo: embedded local AWS at %s, API at %s, %d templates registered\n\n", st.Env.Endpoint, st.APIURL, len(tpls))
	_, ok := demo.Run(ctx, out, client.New(st.APIURL, client.WithAPIKey(key)), progress, demo.Cases())
	return ok, nil
}
