package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tasker-go/tasker/pkg/api"
)

// DefaultPollInterval is WaitForTask's poll interval when poll is not positive.
const DefaultPollInterval = 500 * time.Millisecond

// WaitForTask polls a task until its status is terminal (complete, error,
// cancelled or resolved_manually) and returns it. Passing failures (a
// network error, a 5xx or 429 answer) are retried at the next poll; any other
// *APIError (e.g. 404) is returned at once.
//
// When ctx ends first it returns the last task it read (nil if none) with an
// error wrapping ctx.Err(), so callers can report how far the task got.
func (c *Client) WaitForTask(ctx context.Context, taskUUID string, poll time.Duration) (*api.TaskResponse, error) {
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	var (
		last    *api.TaskResponse
		lastErr error
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("wait for task %s: %w (last error: %v)", taskUUID, ctx.Err(), lastErr)
			}
			return last, fmt.Errorf("wait for task %s: %w", taskUUID, ctx.Err())
		case <-timer.C:
		}
		t, err := c.GetTask(ctx, taskUUID)
		switch {
		case err == nil:
			last, lastErr = t, nil
			if t.Terminal() {
				return t, nil
			}
		case ctx.Err() != nil:
			// The context ended during the request; report it above.
		case transient(err):
			lastErr = err
		default:
			return last, err
		}
		timer.Reset(poll)
	}
}

// transient reports whether a failed poll is worth repeating.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500 || apiErr.Status == 429
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
}
