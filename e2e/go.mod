// This folder holds the dashboard's browser test (Node + playwright-core). The
// go.mod file makes it a module of its own, so `go test ./...` and `go vet ./...`
// of the main module skip it and its node_modules.
module tasker.invalid/e2e
