package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// ErrBadCursor means a pagination cursor could not be decoded or belongs to
// another listing.
var ErrBadCursor = errors.New("invalid cursor")

// cursorToken is the opaque pagination token: the listing it belongs to and
// the LastEvaluatedKey (string attributes only).
type cursorToken struct {
	Scope string            `json:"s"`
	Key   map[string]string `json:"k"`
}

// encodeCursor turns a LastEvaluatedKey into an opaque token bound to scope.
func encodeCursor(scope string, k map[string]types.AttributeValue) string {
	tok := cursorToken{Scope: scope, Key: make(map[string]string, len(k))}
	for name, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			tok.Key[name] = s.Value
		}
	}
	b, _ := json.Marshal(tok)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a token made by encodeCursor for the same scope. A token
// for another scope, with attributes other than allowed, or failing check is
// rejected, so a forged or foreign cursor never reaches DynamoDB.
func decodeCursor(c, scope string, allowed []string, check func(map[string]string) bool) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	var tok cursorToken
	if err := json.Unmarshal(b, &tok); err != nil || tok.Scope != scope || len(tok.Key) == 0 {
		return nil, ErrBadCursor
	}
	for k := range tok.Key {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, ErrBadCursor
		}
	}
	if !check(tok.Key) {
		return nil, ErrBadCursor
	}
	out := make(map[string]types.AttributeValue, len(tok.Key))
	for k, v := range tok.Key {
		out[k] = str(v)
	}
	return out, nil
}

// taskListCursorOK checks the keys of a namespace listing's cursor.
func taskListCursorOK(namespace string) func(map[string]string) bool {
	return func(k map[string]string) bool {
		if !strings.HasPrefix(k["pk"], "T#") || (k["sk"] != skTask && namespace != "") {
			return false
		}
		if p, ok := k["gsi1pk"]; ok && namespace != "" && p != "NS#"+namespace {
			return false
		}
		return true
	}
}

// queryPage runs one page of an index query resumed from cursor (a token of
// encodeCursor for scope, checked by check): a forged or foreign cursor, or
// one DynamoDB refuses, is ErrBadCursor.
func (s *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, op, scope, cursor string, check func(map[string]string) bool) (*dynamodb.QueryOutput, error) {
	if cursor != "" {
		start, err := decodeCursor(cursor, scope, []string{"pk", "sk", "gsi1pk", "gsi1sk"}, check)
		if err != nil {
			return nil, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		if cursor != "" && isValidation(err) {
			return nil, fmt.Errorf("%s: %w", op, ErrBadCursor)
		}
		return nil, mapErr(op, err)
	}
	return out, nil
}

// isValidation reports a DynamoDB ValidationException (e.g. a start key that
// does not fit the query).
func isValidation(err error) bool {
	var apiErr interface{ ErrorCode() string }
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

func isConflict(err error) bool { return errors.Is(err, workflow.ErrConflict) }
