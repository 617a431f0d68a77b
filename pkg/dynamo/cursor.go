package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// ErrBadCursor means a pagination cursor could not be decoded.
var ErrBadCursor = errors.New("invalid cursor")

// encodeCursor turns a LastEvaluatedKey (string attributes only) into an opaque token.
func encodeCursor(k map[string]types.AttributeValue) string {
	m := make(map[string]string, len(k))
	for name, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[name] = s.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a token made by encodeCursor. want names the key
// attributes a token may carry, with required values where given ("" = any);
// a token with other attributes or other values is rejected, so a forged or
// foreign cursor never reaches DynamoDB.
func decodeCursor(c string, want map[string]string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 {
		return nil, ErrBadCursor
	}
	for k, got := range m {
		v, ok := want[k]
		if !ok || (v != "" && got != v) {
			return nil, ErrBadCursor
		}
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return out, nil
}

func isConflict(err error) bool { return errors.Is(err, workflow.ErrConflict) }
