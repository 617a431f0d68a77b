package infra

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// IAM is not enforced by the local emulator, so a DynamoDB call added to
// pkg/dynamo without its action here would pass every local test and fail
// in AWS with AccessDenied. These tests read pkg/dynamo's source and check
// that the granted actions cover the calls the code makes.

// iamActionOf maps a DynamoDB client method, or a transaction item type, to
// the IAM action that authorises it.
var iamActionOf = map[string]string{
	"GetItem": "dynamodb:GetItem", "PutItem": "dynamodb:PutItem", "UpdateItem": "dynamodb:UpdateItem",
	"DeleteItem": "dynamodb:DeleteItem", "Query": "dynamodb:Query", "Scan": "dynamodb:Scan",
	"BatchGetItem": "dynamodb:BatchGetItem", "BatchWriteItem": "dynamodb:BatchWriteItem",
	"TransactGetItems": "dynamodb:GetItem",
	// TransactWriteItems is authorised per item (skipped as a call).
	"types.Put": "dynamodb:PutItem", "types.Update": "dynamodb:UpdateItem",
	"types.Delete": "dynamodb:DeleteItem", "types.ConditionCheck": "dynamodb:ConditionCheckItem",
}

func TestEngineActionsCoverStoreCalls(t *testing.T) {
	t.Parallel()
	pkg := parseStore(t)
	var needed []string
	for _, fn := range pkg.funcs {
		needed = append(needed, pkg.actions(fn)...)
	}
	requireCovered(t, needed, append(slices.Clone(engineTableActions), intakeTableActions...))
}

func TestWorkerActionsCoverStoreCalls(t *testing.T) {
	t.Parallel()
	pkg := parseStore(t)
	// The methods behind worker.Store.
	needed := pkg.reachableActions(t, "ClaimStep", "SavePayload", "LoadPayload", "SaveCheckpoint")
	require.NotEmpty(t, needed)
	requireCovered(t, needed, workerTableActions)
}

func requireCovered(t *testing.T, needed, granted []string) {
	t.Helper()
	slices.Sort(needed)
	needed = slices.Compact(needed)
	for _, a := range needed {
		require.Contains(t, granted, a, "pkg/dynamo calls %s; grant it in infra/engine.go", a)
	}
}

type storeSource struct {
	funcs map[string][]*ast.FuncDecl // by name; methods and functions
}

func parseStore(t *testing.T) *storeSource {
	t.Helper()
	dir := filepath.Join("..", "pkg", "dynamo")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	src := &storeSource{funcs: map[string][]*ast.FuncDecl{}}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				src.funcs[fd.Name.Name] = append(src.funcs[fd.Name.Name], fd)
			}
		}
	}
	require.NotEmpty(t, src.funcs)
	return src
}

// actions returns the IAM actions of the DynamoDB calls in fns' bodies:
// calls through a field named db, and transaction items.
func (s *storeSource) actions(fns []*ast.FuncDecl) []string {
	var out []string
	for _, fn := range fns {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if recv, ok := sel.X.(*ast.SelectorExpr); ok && recv.Sel.Name == "db" && sel.Sel.Name != "TransactWriteItems" {
						out = append(out, actionOrUnknown(sel.Sel.Name))
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "types" {
						if a, ok := iamActionOf["types."+sel.Sel.Name]; ok {
							out = append(out, a)
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// reachableActions returns the actions of the named functions and of every
// function of the package they call, transitively (by name: a conservative
// over-approximation).
func (s *storeSource) reachableActions(t *testing.T, roots ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	queue := slices.Clone(roots)
	var out []string
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		fns, ok := s.funcs[name]
		if !ok {
			continue
		}
		out = append(out, s.actions(fns)...)
		for _, fn := range fns {
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					switch f := c.Fun.(type) {
					case *ast.Ident:
						queue = append(queue, f.Name)
					case *ast.SelectorExpr:
						queue = append(queue, f.Sel.Name)
					}
				}
				return true
			})
		}
	}
	for _, r := range roots {
		require.Contains(t, s.funcs, r, "pkg/dynamo has no %s", r)
	}
	return out
}

func actionOrUnknown(method string) string {
	if a, ok := iamActionOf[method]; ok {
		return a
	}
	return "dynamodb:<unmapped " + method + ">"
}
