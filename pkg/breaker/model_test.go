package breaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// cfg is the tests' config: 3 failures, 10 s, 2 successes.
var cfg = Config{FailureThreshold: 3, CoolDown: 10 * time.Second, SuccessThreshold: 2}

func TestAllowedGuards(t *testing.T) {
	t.Parallel()
	open := Record{State: Open, OpenedAt: t0}
	half := Record{State: HalfOpen, Probes: 1, ProbeUntil: t0.Add(10 * time.Second)}
	tests := []struct {
		name string
		r    Record
		ev   Event
		now  time.Time
		want bool
	}{
		{"failure while closed", Record{}, EvFailure, t0, true},
		{"failure while open is not an event", open, EvFailure, t0, false},
		{"success resets failures", Record{Failures: 2}, EvSuccess, t0, true},
		{"success without failures writes nothing", Record{}, EvSuccess, t0, false},
		{"success counts a probe", half, EvSuccess, t0, true},
		{"trip below the threshold", Record{Failures: 2}, EvTrip, t0, false},
		{"trip at the threshold", Record{Failures: 3}, EvTrip, t0, true},
		{"trip above the threshold", Record{Failures: 7}, EvTrip, t0, true},
		{"probe during the cool-down", open, EvProbe, t0.Add(9 * time.Second), false},
		{"probe as the cool-down ends", open, EvProbe, t0.Add(10 * time.Second), true},
		{"probe with a free slot", half, EvProbe, t0, true},
		{"probe with every slot taken", Record{State: HalfOpen, Probes: 2, ProbeUntil: t0.Add(time.Second)}, EvProbe, t0, false},
		{"probe after the round", Record{State: HalfOpen, Probes: 2, ProbeUntil: t0}, EvProbe, t0, true},
		{"close below the threshold", Record{State: HalfOpen, Successes: 1}, EvClose, t0, false},
		{"close at the threshold", Record{State: HalfOpen, Successes: 2}, EvClose, t0, true},
		{"reopen", half, EvReopen, t0, true},
		{"reopen a closed breaker", Record{}, EvReopen, t0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Allowed(tc.r, tc.ev, cfg, tc.now); got != tc.want {
				t.Fatalf("Allowed(%+v, %q) = %v, want %v", tc.r, tc.ev, got, tc.want)
			}
			_, err := Apply(tc.r, tc.ev, cfg, tc.now)
			if tc.want != (err == nil) {
				t.Fatalf("Apply(%+v, %q) error = %v, want error %v", tc.r, tc.ev, err, !tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Minute)
	until := now.Add(cfg.CoolDown)
	tests := []struct {
		name string
		r    Record
		ev   Event
		want Record
	}{
		{"failure counts", Record{Failures: 1, Version: 4}, EvFailure,
			Record{State: Closed, Failures: 2, Version: 5}},
		{"success resets", Record{State: Closed, Failures: 2, Version: 4}, EvSuccess,
			Record{State: Closed, Version: 5}},
		{"trip", Record{State: Closed, Failures: 3, Trips: 1}, EvTrip,
			Record{State: Open, OpenedAt: now, Trips: 2, Version: 1}},
		{"first probe", Record{State: Open, OpenedAt: t0, Successes: 9, Trips: 1}, EvProbe,
			Record{State: HalfOpen, OpenedAt: t0, Probes: 1, ProbeUntil: until, Trips: 1, Version: 1}},
		{"second probe keeps the round", Record{State: HalfOpen, OpenedAt: t0, Probes: 1, ProbeUntil: t0}, EvProbe,
			Record{State: HalfOpen, OpenedAt: t0, Probes: 2, ProbeUntil: t0, Version: 1}},
		{"new round", Record{State: HalfOpen, OpenedAt: t0, Successes: 1, Probes: 2, ProbeUntil: t0}, EvProbe,
			Record{State: HalfOpen, OpenedAt: t0, Successes: 1, Probes: 1, ProbeUntil: until, Version: 1}},
		{"probe success", Record{State: HalfOpen, Probes: 2, ProbeUntil: until}, EvSuccess,
			Record{State: HalfOpen, Successes: 1, Probes: 2, ProbeUntil: until, Version: 1}},
		{"close", Record{State: HalfOpen, OpenedAt: t0, Successes: 2, Probes: 2, ProbeUntil: until, Trips: 3}, EvClose,
			Record{State: Closed, Trips: 3, Version: 1}},
		{"reopen", Record{State: HalfOpen, OpenedAt: t0, Successes: 1, Probes: 2, ProbeUntil: until, Trips: 3}, EvReopen,
			Record{State: Open, OpenedAt: now, Trips: 4, Version: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.r.Name, tc.want.Name, tc.want.UpdatedAt = "dep", "dep", now
			got, err := Apply(tc.r, tc.ev, cfg, now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Apply(%+v, %q)\n got %+v\nwant %+v", tc.r, tc.ev, got, tc.want)
			}
		})
	}
}

func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	r := Record{State: Open, OpenedAt: t0}
	if _, err := Apply(r, EvTrip, cfg, t0); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("trip while open: %v, want ErrIllegalTransition", err)
	}
	if _, err := Apply(r, EvProbe, cfg, t0); !errors.Is(err, ErrGuard) {
		t.Errorf("probe during the cool-down: %v, want ErrGuard", err)
	}
}

func TestOutcomeEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r                  Record
		onFailure, success Event
	}{
		{Record{}, EvFailure, ""},
		{Record{Failures: 1}, EvFailure, EvSuccess},
		{Record{State: Open}, "", ""},
		{Record{State: HalfOpen}, EvReopen, EvSuccess},
	} {
		if ev, ok := OnFailure(tc.r); ev != tc.onFailure || ok != (tc.onFailure != "") {
			t.Errorf("OnFailure(%+v) = %q, %v; want %q", tc.r, ev, ok, tc.onFailure)
		}
		if ev, ok := OnSuccess(tc.r); ev != tc.success || ok != (tc.success != "") {
			t.Errorf("OnSuccess(%+v) = %q, %v; want %q", tc.r, ev, ok, tc.success)
		}
	}
}

func TestSettle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    Record
		want Event
	}{
		{Record{Failures: 2}, ""},
		{Record{Failures: 3}, EvTrip},
		{Record{State: HalfOpen, Successes: 1}, ""},
		{Record{State: HalfOpen, Successes: 2}, EvClose},
		{Record{State: Open, Failures: 9, Successes: 9}, ""},
	} {
		if ev, ok := Settle(tc.r, cfg); ev != tc.want || ok != (tc.want != "") {
			t.Errorf("Settle(%+v) = %q, %v; want %q", tc.r, ev, ok, tc.want)
		}
	}
}

func TestAdmit(t *testing.T) {
	t.Parallel()
	open := Record{State: Open, OpenedAt: t0}
	full := Record{State: HalfOpen, Probes: 2, ProbeUntil: t0.Add(4 * time.Second)}
	for _, tc := range []struct {
		name string
		r    Record
		now  time.Time
		want Admission
	}{
		{"closed", Record{Failures: 2}, t0, Admission{Allow: true}},
		{"open", open, t0.Add(3 * time.Second), Admission{RetryAfter: 7 * time.Second}},
		{"open, cool-down over", open, t0.Add(10 * time.Second), Admission{Allow: true, Probe: true}},
		{"half-open, free slot", Record{State: HalfOpen, Probes: 1, ProbeUntil: t0.Add(4 * time.Second)}, t0, Admission{Allow: true, Probe: true}},
		{"half-open, slots taken", full, t0, Admission{RetryAfter: 4 * time.Second}},
		{"half-open, round over", full, t0.Add(4 * time.Second), Admission{Allow: true, Probe: true}},
	} {
		if got := Admit(tc.r, cfg, tc.now); got != tc.want {
			t.Errorf("%s: Admit = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := RetryAfter(open, cfg, t0.Add(time.Hour)); got != 0 {
		t.Errorf("RetryAfter long after the cool-down = %s, want 0", got)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	d := Config{}.WithDefaults()
	if d.FailureThreshold != 5 || d.CoolDown != 30*time.Second || d.SuccessThreshold != 2 || d.IsFailure == nil {
		t.Errorf("defaults = %+v, want 5 / 30s / 2 with IsFailure", d)
	}
	kept := Config{FailureThreshold: 1, CoolDown: time.Second, SuccessThreshold: 4}.WithDefaults()
	if kept.FailureThreshold != 1 || kept.CoolDown != time.Second || kept.SuccessThreshold != 4 {
		t.Errorf("WithDefaults changed set fields: %+v", kept)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	err := Config{FailureThreshold: -1, CoolDown: -time.Second, SuccessThreshold: -2}.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative fields: %v, want ErrInvalidConfig", err)
	}
	for _, field := range []string{"FailureThreshold", "CoolDown", "SuccessThreshold"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestDefaultIsFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("503"), true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{fmt.Errorf("call: %w", context.Canceled), false},
	} {
		if got := DefaultIsFailure(tc.err); got != tc.want {
			t.Errorf("DefaultIsFailure(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestOpenError(t *testing.T) {
	t.Parallel()
	err := error(&OpenError{Name: "payment-gateway", State: Open, RetryAfter: 12 * time.Second})
	if !errors.Is(err, ErrOpen) {
		t.Error("OpenError does not match ErrOpen")
	}
	if got, want := err.Error(), `circuit breaker "payment-gateway" is open; retry in 12s`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
