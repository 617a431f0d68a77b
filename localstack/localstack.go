// Package localstack runs Tasker against a local AWS: by default the kumo
// emulator embedded in this process, or an emulator already running
// elsewhere (LocalStack, a kumo container) when an endpoint is given. It
// returns ready DynamoDB and SQS clients and provisions Tasker's resources.
//
// Every embedded kumo server in one process shares kumo's global state: two
// Envs see each other's tables and queues, so isolate users by resource
// prefix (see the localtest package), not by server. See docs/local-aws.md.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sivchari/kumo"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/resources"
)

// DefaultAddr is where the embedded emulator listens by default: LocalStack's
// port, so tools configured for LocalStack (the aws CLI with
// --endpoint-url http://localhost:4566) work unchanged.
const DefaultAddr = "127.0.0.1:4566"

// ErrAddrInUse is returned (wrapped) by Start when Options.Addr is taken.
var ErrAddrInUse = errors.New("address in use")

// ErrUnreachable is returned (wrapped) by Start when an external endpoint
// does not answer.
var ErrUnreachable = errors.New("endpoint unreachable")

// reachTimeout bounds Start's check that an external endpoint answers.
const reachTimeout = 10 * time.Second

// dataDir is KUMO_DATA_DIR as kumo read it: kumo's services read it in their
// init functions, which run before this package's variables are set.
var dataDir = os.Getenv("KUMO_DATA_DIR")

// DataDir returns the directory the embedded emulator persists its state in,
// or "" when state lives in memory only. kumo reads KUMO_DATA_DIR once, when
// the process starts: it must be set in the environment before the process
// starts (os.Setenv later has no effect).
func DataDir() string { return dataDir }

// Options says which local AWS to use.
type Options struct {
	// Addr is the public listen address of the embedded emulator; default
	// DefaultAddr. A port of 0 ("127.0.0.1:0") opens no public listener:
	// Endpoint is then the emulator's own random-port URL.
	Addr string
	// Endpoint, when set (e.g. "http://localhost:4566" for LocalStack),
	// means: start nothing, use the emulator or AWS endpoint there.
	Endpoint string
	// Quiet suppresses the log line Start writes with slog.Default.
	Quiet bool
}

// Env is a running local AWS with clients for it.
type Env struct {
	// Endpoint is the URL other processes use: the public Addr for the
	// embedded emulator, Options.Endpoint for an external one.
	Endpoint string
	// InternalEndpoint is the URL the clients in Env use. For the embedded
	// emulator it is kumo's own listener, which skips the forwarding hop.
	InternalEndpoint string
	// Embedded is true when this process runs the emulator.
	Embedded bool
	// DynamoDB and SQS are clients for InternalEndpoint.
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	// AWS is the configuration the clients were built from.
	AWS aws.Config
	// ClientOptions are the options the clients were built with; pass them
	// to awsconn to build further clients the same way.
	ClientOptions awsconn.Options

	server    *kumo.Server
	forwarder *forwarder
	closeOnce sync.Once
}

// Start starts the embedded emulator, or connects to o.Endpoint. It returns
// an error wrapping ErrAddrInUse when o.Addr is taken, ErrUnreachable when
// o.Endpoint does not answer ListTables, or the awsconn.Load error.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.Endpoint != "" {
		return connect(ctx, o)
	}
	return startEmbedded(ctx, o)
}

func startEmbedded(ctx context.Context, o Options) (*Env, error) {
	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	public, err := hasFixedPort(addr)
	if err != nil {
		return nil, err
	}
	var fwd *forwarder
	if public {
		if fwd, err = listen(addr); err != nil {
			return nil, err
		}
	}
	srv := newKumoServer()
	e := &Env{InternalEndpoint: srv.URL, Endpoint: srv.URL, Embedded: true, server: srv}
	if fwd != nil {
		e.forwarder = fwd
		e.Endpoint = publicURL(fwd.Addr())
		fwd.start(hostPort(srv.URL))
	}
	if err := e.buildClients(ctx, awsconn.Options{Endpoint: e.InternalEndpoint, Local: true}); err != nil {
		_ = e.Close()
		return nil, err
	}
	if !o.Quiet {
		slog.Default().Info("local AWS started (embedded kumo)",
			"endpoint", e.Endpoint, "data_dir", DataDir())
	}
	return e, nil
}

// hasFixedPort reports whether addr names a port (a public listener is
// wanted) rather than port 0.
func hasFixedPort(addr string) (bool, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("listen address %q: %w", addr, err)
	}
	return port != "0", nil
}

// listen opens the public listener.
func listen(addr string) (*forwarder, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use: is another tasker dev or LocalStack running? use --aws-addr to pick another address: %w", addr, ErrAddrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return newForwarder(ln), nil
}

// publicURL is the URL clients use for a listener; a wildcard listener
// (":4566", "0.0.0.0:4566") is reached through loopback.
func publicURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// kumoMu serializes kumo.NewServer: each call re-wires kumo's global service
// registry (SNS→SQS and the like), which races with a concurrent call.
var kumoMu sync.Mutex

func newKumoServer() *kumo.Server {
	kumoMu.Lock()
	defer kumoMu.Unlock()
	return kumo.NewServer()
}

func connect(ctx context.Context, o Options) (*Env, error) {
	e := &Env{Endpoint: o.Endpoint, InternalEndpoint: o.Endpoint}
	co := awsconn.Options{Endpoint: o.Endpoint, Local: awsconn.IsLoopback(o.Endpoint)}
	if err := e.buildClients(ctx, co); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	if _, err := e.DynamoDB.ListTables(rctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return nil, fmt.Errorf("%w: %s did not answer DynamoDB ListTables (is LocalStack running?): %w", ErrUnreachable, o.Endpoint, err)
	}
	if !o.Quiet {
		slog.Default().Info("local AWS connected", "endpoint", e.Endpoint)
	}
	return e, nil
}

func (e *Env) buildClients(ctx context.Context, co awsconn.Options) error {
	cfg, err := awsconn.Load(ctx, co)
	if err != nil {
		return err
	}
	e.AWS, e.ClientOptions = cfg, co
	e.DynamoDB = awsconn.DynamoDB(cfg, co)
	e.SQS = awsconn.SQS(cfg, co)
	return nil
}

// Provision creates (or finds) Tasker's table and queues for n with one step
// queue per namespace. Errors are those of resources.Provision.
func (e *Env) Provision(ctx context.Context, n resources.Names, namespaces []string) (*resources.Provisioned, error) {
	return resources.Provision(ctx, e.DynamoDB, e.SQS, n, namespaces)
}

// Close stops the public listener, closing forwarded connections, and the
// embedded emulator; for an external endpoint it does nothing. kumo waits for
// requests in flight from this process's own clients, so cancel long polls
// before calling Close. The emulator's state stays in the process (kumo's registry is
// global) and, with KUMO_DATA_DIR, on disk: kumo writes its snapshots in the
// background every KUMO_PERSIST_FLUSH_INTERVAL_MS (default 1 s), and its
// library API has no flush, so Close waits that long when DataDir is set.
// Close is safe to call more than once; it always returns nil.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		if e.forwarder != nil {
			e.forwarder.close()
		}
		if e.server != nil {
			e.server.Close()
			if DataDir() != "" {
				time.Sleep(persistGrace())
			}
		}
	})
	return nil
}
