package breaker

import (
	"errors"
	"slices"
	"testing"
)

// wantNext is the machine written out by hand: every legal (state, event)
// pair and where it leads. Every pair not listed is illegal.
var wantNext = map[State]map[Event]State{
	Closed:   {EvFailure: Closed, EvSuccess: Closed, EvTrip: Open},
	Open:     {EvProbe: HalfOpen},
	HalfOpen: {EvProbe: HalfOpen, EvSuccess: HalfOpen, EvClose: Closed, EvReopen: Open},
}

func TestStatesAndEvents(t *testing.T) {
	t.Parallel()
	if got, want := AllStates(), []State{"closed", "open", "half_open"}; !slices.Equal(got, want) {
		t.Errorf("AllStates() = %q, want %q", got, want)
	}
	if got, want := AllEvents(), []Event{"failure", "success", "trip", "probe", "close", "reopen"}; !slices.Equal(got, want) {
		t.Errorf("AllEvents() = %q, want %q", got, want)
	}
	AllStates()[0], AllEvents()[0] = "bogus", "bogus"
	if AllStates()[0] != Closed || AllEvents()[0] != EvFailure {
		t.Error("AllStates/AllEvents return the package's own slices")
	}
}

// TestNextExhaustive checks every pair of the cross product, plus an
// unknown state and event.
func TestNextExhaustive(t *testing.T) {
	t.Parallel()
	states := append(AllStates(), "bogus", "")
	events := append(AllEvents(), "bogus")
	for _, from := range states {
		for _, ev := range events {
			t.Run(string(from)+"/"+string(ev), func(t *testing.T) {
				t.Parallel()
				got, err := Next(from, ev)
				if want, legal := wantNext[from][ev]; legal {
					if err != nil || got != want {
						t.Fatalf("Next(%q, %q) = %q, %v; want %q", from, ev, got, err, want)
					}
					return
				}
				var ite *IllegalTransitionError
				if !errors.As(err, &ite) || !errors.Is(err, ErrIllegalTransition) || ite.From != from || ite.Event != ev {
					t.Fatalf("Next(%q, %q) error = %v, want an IllegalTransitionError", from, ev, err)
				}
				if got != "" {
					t.Fatalf("Next(%q, %q) returned %q with its error", from, ev, got)
				}
			})
		}
	}
}

func TestTransitionsListsExactlyTheTable(t *testing.T) {
	t.Parallel()
	n := 0
	for _, m := range wantNext {
		n += len(m)
	}
	got := Transitions()
	if len(got) != n {
		t.Fatalf("Transitions() has %d rows, want %d", len(got), n)
	}
	for _, r := range got {
		if want := wantNext[r.From][r.Event]; r.To != want {
			t.Errorf("row %+v: want To %q", r, want)
		}
	}
	got[0].To = Open
	if Transitions()[0].To != Closed {
		t.Error("Transitions returns the package's own rows")
	}
}

func TestEveryStateIsReachableAndLeft(t *testing.T) {
	t.Parallel()
	in, out := map[State]bool{Closed: true}, map[State]bool{}
	for _, r := range Transitions() {
		in[r.To], out[r.From] = true, true
	}
	for _, s := range AllStates() {
		if !in[s] || !out[s] {
			t.Errorf("state %q: reachable %v, has a way out %v", s, in[s], out[s])
		}
	}
}

func TestParseState(t *testing.T) {
	t.Parallel()
	for _, s := range AllStates() {
		got, err := ParseState(string(s))
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "Closed", "half-open"} {
		if _, err := ParseState(bad); !errors.Is(err, ErrUnknownState) {
			t.Errorf("ParseState(%q) error = %v, want ErrUnknownState", bad, err)
		}
	}
}
