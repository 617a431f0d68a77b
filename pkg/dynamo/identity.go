package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// IdentityClaimTimeout is how long an identity may name a task that does not
// exist before a new creation with that identity takes it over. A creation
// writes the identity and then the task, two writes apart; one that stops in
// between leaves an identity whose task never appears, which would refuse
// every later request with that identity. Until the timeout such an identity
// counts as held (its creation may be mid-way); a minute is far longer than
// the gap between the two writes of a live creation, and the engine gives up
// a creation that has not published within half of it (engine.PublishWithin).
const IdentityClaimTimeout = time.Minute

// claimAttempts bounds claimIdentity's rounds of put and read, which repeat
// only while other creations change the identity in between.
const claimAttempts = 3

// heldIdentity is what an identity item says.
type heldIdentity struct {
	taskUUID  string
	createdAt time.Time
}

func identityKey(hash string) map[string]types.AttributeValue { return key("ID#"+hash, "ID") }

// claimIdentity makes t's identity item name t. It returns
// workflow.ErrDuplicateTask when the identity names another task that exists,
// or that does not exist but was claimed less than IdentityClaimTimeout
// before t was created. An identity naming a task that does not exist and
// is older is dangling: it is taken over, on the condition that it still
// names that task.
func (s *Store) claimIdentity(ctx context.Context, t *workflow.Task) error {
	cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
	for range claimAttempts {
		err := s.putIdentity(ctx, t, cond, vals)
		if !conditionFailed(err) {
			return mapErr("create task: claim identity", err)
		}
		held, err := s.readIdentity(ctx, t.IdentityHash)
		switch {
		case errors.Is(err, workflow.ErrNotFound):
			cond, vals = "attribute_not_exists(pk)", nil // released meanwhile
			continue
		case err != nil:
			return fmt.Errorf("create task: %w", err)
		case held.taskUUID == t.UUID:
			return nil // this call's put: an attempt whose reply was lost landed
		}
		exists, err := s.taskExists(ctx, held.taskUUID)
		if err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		if exists || t.CreatedAt.Sub(held.createdAt) < IdentityClaimTimeout {
			return fmt.Errorf("create task: %w", workflow.ErrDuplicateTask)
		}
		cond, vals = "task_uuid = :old", map[string]types.AttributeValue{":old": str(held.taskUUID)}
	}
	// Other creations kept changing the identity: one of them holds it.
	return fmt.Errorf("create task: %w", workflow.ErrDuplicateTask)
}

func (s *Store) putIdentity(ctx context.Context, t *workflow.Task, cond string, vals map[string]types.AttributeValue) error {
	item := identityKey(t.IdentityHash)
	item["task_uuid"] = str(t.UUID)
	item["created_at"] = timeAttr(t.CreatedAt)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
	return err
}

// releaseIdentity deletes t's identity item if it still names t, after t's
// task item could not be written. It runs on its own context, because the
// request's may have ended.
func (s *Store) releaseIdentity(ctx context.Context, t *workflow.Task) error {
	if t.IdentityHash == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: identityKey(t.IdentityHash),
		ConditionExpression:       aws.String("task_uuid = :me"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": str(t.UUID)}})
	if conditionFailed(err) {
		return nil // gone already, or taken over
	}
	return mapErr("release identity of uncreated task "+t.UUID, err)
}

// readIdentity reads an identity item (strongly consistent), or returns
// workflow.ErrNotFound.
func (s *Store) readIdentity(ctx context.Context, hash string) (heldIdentity, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: identityKey(hash), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return heldIdentity{}, mapErr("read identity", err)
	}
	if out.Item == nil {
		return heldIdentity{}, fmt.Errorf("read identity: %w", workflow.ErrNotFound)
	}
	return heldIdentity{taskUUID: getS(out.Item, "task_uuid"), createdAt: getTime(out.Item, "created_at")}, nil
}

// taskExists reports whether a task item exists (strongly consistent).
func (s *Store) taskExists(ctx context.Context, taskUUID string) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(taskPK(taskUUID), skTask),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk")})
	if err != nil {
		return false, mapErr("read task "+taskUUID, err)
	}
	return out.Item != nil, nil
}

// LookupIdentity returns the UUID of the task holding an identity hash, or
// workflow.ErrNotFound, also when the identity names a task that does not
// exist (its creation is mid-way, or stopped after claiming the identity).
func (s *Store) LookupIdentity(ctx context.Context, hash string) (string, error) {
	held, err := s.readIdentity(ctx, hash)
	if err != nil {
		return "", fmt.Errorf("lookup identity: %w", err)
	}
	exists, err := s.taskExists(ctx, held.taskUUID)
	switch {
	case err != nil:
		return "", fmt.Errorf("lookup identity: %w", err)
	case !exists:
		return "", fmt.Errorf("lookup identity: task %s: %w", held.taskUUID, workflow.ErrNotFound)
	}
	return held.taskUUID, nil
}

// conditionFailed reports whether a single-item write failed its condition.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
