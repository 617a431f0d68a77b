package breaker

import (
	"sync"
	"time"
)

// cache holds the newest record a Breaker has seen and when it saw it.
// Records only replace records of a lower or equal version, so a slow read
// never overwrites what a later write returned.
type cache struct {
	mu  sync.Mutex
	rec Record
	at  time.Time
	ok  bool
}

// get returns the cached record if it was seen less than ttl before now.
func (c *cache) get(now time.Time, ttl time.Duration) (Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || ttl <= 0 || now.Sub(c.at) >= ttl || now.Before(c.at) {
		return Record{}, false
	}
	return c.rec, true
}

// put stores rec as seen at now unless a newer version is cached.
func (c *cache) put(rec Record, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && rec.Version < c.rec.Version {
		return
	}
	c.rec, c.at, c.ok = rec, now, true
}

// latest returns the cached record if it is newer than rec, else rec.
func (c *cache) latest(rec Record) Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && c.rec.Version > rec.Version {
		return c.rec
	}
	return rec
}

// drop forgets the cached record, so the next call reads the store.
func (c *cache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = false
}
