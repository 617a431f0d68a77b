package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildCLI builds cmd/tasker into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "tasker")
	out, err := exec.Command(goBin, "build", "-o", bin, "../../cmd/tasker").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// cliEnv is the environment of the CLI processes: this one's without
// Tasker's and the emulator's variables, with a HOME of the test's own.
func cliEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TASKER_") || strings.HasPrefix(kv, "KUMO_") || strings.HasPrefix(kv, "AWS_ENDPOINT_URL") ||
			strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "USER=cli-test")
}

// TestCLIAgainstTaskerDev builds the tasker binary, runs `tasker dev` as a
// subprocess and drives it with the CLI as a user would.
func TestCLIAgainstTaskerDev(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	home := t.TempDir()
	// tasker dev takes its key from TASKER_API_KEYS; the CLI sends TASKER_API_KEY.
	const key = "tk_cli_test_key_0123456789abcdef"
	env := append(cliEnv(home), "TASKER_API_KEYS=cli:"+key+":tasks:*,steps:*,templates:*,dlq:*", "TASKER_API_KEY="+key)
	addr := freeAddr(t)
	apiURL := "http://" + addr

	var devOut, devErr syncBuffer
	dev := exec.Command(bin, "dev", "--api-addr", addr, "--aws-addr", "127.0.0.1:0", "--templates", "../../templates",
		"--prefix", fmt.Sprintf("cli-%d", time.Now().UnixNano()%1000000), "--log-level", "error")
	dev.Env, dev.Stdout, dev.Stderr = env, &devOut, &devErr
	require.NoError(t, dev.Start())
	exited := make(chan error, 1)
	go func() { exited <- dev.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = dev.Process.Kill()
			<-exited
		}
	})

	c := client.New(apiURL)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := c.Health(context.Background()); err == nil {
			break
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("tasker dev exited: %v\nstdout:\n%s\nstderr:\n%s", err, devOut.String(), devErr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasker dev did not answer\nstdout:\n%s\nstderr:\n%s", devOut.String(), devErr.String())
		}
	}
	require.Contains(t, devOut.String(), "tasker dev is running\n  API:       "+apiURL)

	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, errOut, code := cli("task", "create", "fulfillment/order_fulfillment", "--wait", "--timeout", "60s", "--api", apiURL,
		"--context", `{"order_id":"ORD-7","customer_id":"C-7","items":[{"sku":"A","quantity":2}],"amount":20}`)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	m := regexp.MustCompile(`created task ([0-9a-f-]{36})`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	id := m[1]
	require.Contains(t, out, "task "+id+" finished: complete")

	out, errOut, code = cli("task", "list", "-n", "fulfillment", "--api", apiURL)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, id+`\s+fulfillment/order_fulfillment:\S+\s+complete`, out)

	out, errOut, code = cli("task", "steps", id, "--api", apiURL)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `ship_order\s+complete\s+1/\d`, out)

	out, errOut, code = cli("task", "audit", id, "--api", apiURL)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `task\s+\S+ → complete`, out)

	out, errOut, code = cli("-o", "json", "task", "get", id, "--api", apiURL)
	require.Equal(t, 0, code, errOut)
	var task api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(out), &task))
	require.Equal(t, "complete", task.Status)

	// The config file points the CLI at the API without flags.
	cfg := filepath.Join(home, ".config", "tasker", "config.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(cfg), 0o700))
	require.NoError(t, os.WriteFile(cfg, []byte("api_url: "+apiURL+"\n"), 0o600))
	out, errOut, code = cli("task", "watch", id)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "finished: complete")
	out, errOut, code = cli("templates", "graph", "fulfillment/order_fulfillment", "--task", id)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "classDef done")
	out, errOut, code = cli("dlq", "stats")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `total\s+0`, out)

	require.NoError(t, dev.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		stopped = true
		require.NoError(t, err, "tasker dev must exit 0 on SIGINT\nstdout:\n%s\nstderr:\n%s", devOut.String(), devErr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("tasker dev did not stop after SIGINT\nstdout:\n%s", devOut.String())
	}
	require.Contains(t, devOut.String(), "stopping: letting in-flight work finish")
}
