package localstack

import (
	"os"
	"strconv"
	"time"
)

// defaultFlushInterval is kumo's default KUMO_PERSIST_FLUSH_INTERVAL_MS.
const defaultFlushInterval = time.Second

// persistGrace is how long Close waits for kumo's background snapshot writer
// to save the last changes: one flush interval plus a margin for the write.
func persistGrace() time.Duration {
	interval := defaultFlushInterval
	if v := os.Getenv("KUMO_PERSIST_FLUSH_INTERVAL_MS"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			interval = time.Duration(ms) * time.Millisecond
		}
	}
	return interval + interval/2 + 100*time.Millisecond
}
