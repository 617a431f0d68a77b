package schedule_test

import (
	"testing"
	"time"
)

func BenchmarkNextNeverMatching(b *testing.B) {
	e := mustParse(b, "cron(0 0 30 2 ? *)", nil)
	for b.Loop() {
		e.Next(time.Time{})
	}
}

func BenchmarkNextMinutelyNewYork(b *testing.B) {
	e := mustParse(b, "cron(* * * * ? *)", newYork(b))
	at := utc("2026-03-08T06:00:00Z")
	for b.Loop() {
		at = e.Next(at)
	}
}
