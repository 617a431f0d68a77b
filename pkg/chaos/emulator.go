package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/tasker-go/tasker/localstack"
)

// envEmulatorAddr, set in a child's environment, makes ServeEmulatorIfChild
// run the emulator on that address instead of the tests.
const envEmulatorAddr = "TASKER_CHAOS_EMULATOR_ADDR"

// ServeEmulatorIfChild runs the embedded emulator and exits when this process
// was started by StartEmulator; otherwise it returns at once. Call it first
// in TestMain of a package that uses StartEmulator.
func ServeEmulatorIfChild() {
	addr := os.Getenv(envEmulatorAddr)
	if addr == "" {
		return
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	env, err := localstack.Start(context.Background(), localstack.Options{Addr: addr, Quiet: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
	<-stop
	_ = env.Close() // waits for kumo's last snapshot when KUMO_DATA_DIR is set
	os.Exit(0)
}

// Emulator is the embedded emulator running in a child process (this test
// binary, re-executed) on a fixed loopback port, so it can be stopped and
// started again while the system under test keeps its clients. Its heap is
// not the caller's, so a soak run measures the system without the
// emulator's growing store.
type Emulator struct {
	// Endpoint is the emulator's URL; it stays the same across restarts.
	Endpoint string
	// DataDir is KUMO_DATA_DIR of every child ("" keeps state in memory,
	// so a restart loses it).
	DataDir string

	addr string
	cmd  *exec.Cmd
}

// StartEmulator starts the emulator in a child process on a free loopback
// port and waits until it answers. dataDir may be empty.
func StartEmulator(ctx context.Context, dataDir string) (*Emulator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	e := &Emulator{Endpoint: "http://" + addr, DataDir: dataDir, addr: addr}
	return e, e.start(ctx)
}

func (e *Emulator) start(ctx context.Context) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envEmulatorAddr+"="+e.addr, "KUMO_DATA_DIR="+e.DataDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start emulator process: %w", err)
	}
	e.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", e.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = e.Stop()
			return errors.Join(fmt.Errorf("emulator on %s did not come up", e.addr), err, ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the child with SIGTERM, so it writes its last snapshot, and
// waits for it to exit.
func (e *Emulator) Stop() error {
	if e.cmd == nil {
		return nil
	}
	cmd := e.cmd
	e.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return fmt.Errorf("emulator pid %d did not stop; killed: %w", cmd.Process.Pid, <-done)
	}
}

// Restart stops the child and starts a new one on the same port and data
// directory.
func (e *Emulator) Restart(ctx context.Context) error {
	if err := e.Stop(); err != nil {
		return fmt.Errorf("stop emulator: %w", err)
	}
	return e.start(ctx)
}

// PID is the current child's process ID (0 when stopped).
func (e *Emulator) PID() int {
	if e.cmd == nil {
		return 0
	}
	return e.cmd.Process.Pid
}
