package resources

import "errors"

// Errors callers branch on; they are returned wrapped with the resource name.
var (
	// ErrInvalidName: a prefix, namespace or queue name that would not make
	// valid AWS resource names.
	ErrInvalidName = errors.New("invalid resource name")
	// ErrMismatch: a table or queue of that name already exists with
	// settings other than its spec's (keys, indexes, TTL attribute, queue
	// attributes or redrive policy). Provision never changes an existing
	// resource; delete it or use another prefix.
	ErrMismatch = errors.New("exists with different settings")
	// ErrNotReady: a table did not become ACTIVE in time, or is being
	// deleted.
	ErrNotReady = errors.New("table not ready")
)
