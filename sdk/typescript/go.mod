// This go.mod fences sdk/typescript off from the Go module at the repository
// root: Go treats a directory with its own go.mod as a separate module, so
// `go test ./...`, `go vet ./...` and `go build ./...` never descend into
// node_modules (some npm packages ship .go files) or dist. It holds no Go code.
module tasker.invalid/sdk-typescript
