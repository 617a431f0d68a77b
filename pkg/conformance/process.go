package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stderrKeep is how many of the worker's last stderr lines a failure shows.
const stderrKeep = 60

// workerProcess is the worker under test: it reads the protocol lines the
// contract asks for on stdout (READY, EFFECT) and keeps the tail of stderr.
type workerProcess struct {
	cmd *exec.Cmd

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a line is read or the process exits
	ready    bool
	effects  map[effectKey]int
	unknown  []string // stdout lines that are neither READY nor EFFECT
	stderr   []string
	exited   bool
	exitErr  error
	exitedAt time.Time
}

type effectKey struct {
	stepUUID string
	attempt  int
}

// startWorker starts argv with env and begins reading its output.
func startWorker(argv []string, env []string) (*workerProcess, error) {
	if len(argv) == 0 {
		return nil, errors.New("worker argv is empty")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &workerProcess{cmd: cmd, changed: make(chan struct{}), effects: map[effectKey]int{}}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %q: %w", argv[0], err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); p.readStdout(stdout) }()
	go func() { defer readers.Done(); p.readStderr(stderr) }()
	go func() {
		readers.Wait() // Wait must not run before the pipes are drained
		err := cmd.Wait()
		p.mu.Lock()
		p.exited, p.exitErr, p.exitedAt = true, err, time.Now()
		p.notifyLocked()
		p.mu.Unlock()
	}()
	return p, nil
}

func (p *workerProcess) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *workerProcess) readStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		p.mu.Lock()
		switch f := strings.Fields(line); {
		case line == "READY":
			p.ready = true
		case len(f) == 3 && f[0] == "EFFECT":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				p.unknown = append(p.unknown, line)
				break
			}
			p.effects[effectKey{f[1], n}]++
		case line != "":
			p.unknown = append(p.unknown, line)
		}
		p.notifyLocked()
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *workerProcess) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.stderr = append(p.stderr, sc.Text())
		if len(p.stderr) > stderrKeep {
			p.stderr = p.stderr[len(p.stderr)-stderrKeep:]
		}
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// waitFor waits until cond (called with p.mu held) is true, the process
// exits (when cond does not accept that) or ctx ends.
func (p *workerProcess) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		p.mu.Lock()
		ok, exited, ch := cond(), p.exited, p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		if exited {
			return fmt.Errorf("waiting for %s: the worker exited (%v)", what, p.exitErr)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// waitReady waits for the READY line.
func (p *workerProcess) waitReady(ctx context.Context) error {
	return p.waitFor(ctx, "READY", func() bool { return p.ready })
}

// waitEffect waits until the handler has run for the step's attempt.
func (p *workerProcess) waitEffect(ctx context.Context, stepUUID string, attempt int) error {
	return p.waitFor(ctx, fmt.Sprintf("EFFECT %s %d", stepUUID, attempt), func() bool {
		return p.effects[effectKey{stepUUID, attempt}] > 0
	})
}

// effectCount returns how often the handler ran for the step's attempt.
func (p *workerProcess) effectCount(stepUUID string, attempt int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.effects[effectKey{stepUUID, attempt}]
}

// effectsFor returns how often any handler ran for the step, over all attempts.
func (p *workerProcess) effectsFor(stepUUID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.effects {
		if k.stepUUID == stepUUID {
			n += v
		}
	}
	return n
}

// alive reports whether the process is still running, and its exit error if not.
func (p *workerProcess) alive() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exited, p.exitErr
}

// unknownLines returns stdout lines the contract does not define.
func (p *workerProcess) unknownLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.unknown...)
}

// stderrTail returns the last lines the worker wrote to stderr.
func (p *workerProcess) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// terminate sends SIGTERM and waits for the exit; it returns the exit error
// (nil for exit 0) and how long the exit took.
func (p *workerProcess) terminate(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("SIGTERM: %w", err)
	}
	if err := p.waitFor(ctx, "exit after SIGTERM", func() bool { return p.exited }); err != nil {
		return time.Since(start), err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitedAt.Sub(start), p.exitErr
}

// kill stops the process if it still runs (test cleanup).
func (p *workerProcess) kill() {
	if ok, _ := p.alive(); ok {
		_ = p.cmd.Process.Kill()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.waitFor(ctx, "exit after kill", func() bool { return p.exited })
	}
}
