package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// chunkBytes is the payload stored per item: under the 400 KB item limit
// with room for keys and attributes.
const chunkBytes = 350 * 1024

// MaxPayloadBytes bounds one stored payload (a step result or step input).
const MaxPayloadBytes = 8 * 1024 * 1024

// SavePayload stores a payload too large to travel inline, in chunks under
// the task's partition, and returns its reference. id must be unique within
// the task for the payload's content (e.g. "<step>#<attempt>#result"), so a
// retried save overwrites the same chunks with the same bytes. It returns
// workflow.ErrTooLarge above MaxPayloadBytes.
func (s *Store) SavePayload(ctx context.Context, taskUUID, id string, data []byte) (*protocol.PayloadRef, error) {
	if len(data) > MaxPayloadBytes {
		return nil, fmt.Errorf("save payload %s: %d bytes, limit %d: %w", id, len(data), MaxPayloadBytes, workflow.ErrTooLarge)
	}
	ref := &protocol.PayloadRef{PK: taskPK(taskUUID), SK: "B#" + id, Bytes: len(data)}
	for off := 0; off < len(data) || off == 0; off += chunkBytes {
		end := min(off+chunkBytes, len(data))
		item := key(ref.PK, fmt.Sprintf("%s#%04d", ref.SK, ref.Chunks))
		item[aKind] = str("blob")
		item[aData] = &types.AttributeValueMemberB{Value: data[off:end]}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
			return nil, mapErr("save payload "+id, err)
		}
		ref.Chunks++
		if end == len(data) {
			break
		}
	}
	return ref, nil
}

// LoadPayload reads a payload saved by SavePayload; workflow.ErrNotFound when
// a chunk is missing or the reference is not one SavePayload makes.
func (s *Store) LoadPayload(ctx context.Context, ref *protocol.PayloadRef) ([]byte, error) {
	if ref == nil || ref.Bytes < 0 || ref.Bytes > MaxPayloadBytes || ref.Chunks < 1 ||
		ref.Chunks > MaxPayloadBytes/chunkBytes+1 || !strings.HasPrefix(ref.SK, "B#") || !strings.HasPrefix(ref.PK, "T#") {
		return nil, fmt.Errorf("load payload: invalid reference: %w", workflow.ErrNotFound)
	}
	out := make([]byte, 0, ref.Bytes)
	for i := 0; i < ref.Chunks; i++ {
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(ref.PK, fmt.Sprintf("%s#%04d", ref.SK, i)), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, mapErr("load payload", err)
		}
		if res.Item == nil {
			return nil, fmt.Errorf("load payload %s chunk %d: %w", ref.SK, i, workflow.ErrNotFound)
		}
		b, _ := res.Item[aData].(*types.AttributeValueMemberB)
		if b == nil {
			return nil, fmt.Errorf("load payload %s chunk %d: no data: %w", ref.SK, i, workflow.ErrNotFound)
		}
		out = append(out, b.Value...)
	}
	if len(out) != ref.Bytes {
		return nil, fmt.Errorf("load payload %s: got %d bytes, want %d: %w", ref.SK, len(out), ref.Bytes, workflow.ErrNotFound)
	}
	return out, nil
}

// PayloadOwnedBy reports whether ref points into the given task's partition:
// a worker may only hand over payloads of its own task.
func PayloadOwnedBy(ref *protocol.PayloadRef, taskUUID string) bool {
	return ref != nil && ref.PK == taskPK(taskUUID)
}
