package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/workflow"
)

func templatePK(namespace, name string) string { return "TPL#" + namespace + "/" + name }

// TemplateRecord is a registered template version.
type TemplateRecord struct {
	Namespace, Name, Version string
	Body                     []byte // the template as JSON
	Hash                     string
}

// PutTemplate registers a template version. Registering the same body again
// is a no-op; a different body under an existing version returns
// workflow.ErrConflict (versions are immutable: tasks pin them).
func (s *Store) PutTemplate(ctx context.Context, namespace, name, version string, body []byte) error {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	item := key(templatePK(namespace, name), "V#"+version)
	item[aKind] = str("template")
	item["namespace"] = str(namespace)
	item["name"] = str(name)
	item["version"] = str(version)
	item["body"] = str(string(body))
	item["hash"] = str(hash)
	item["gsi1pk"] = str("TEMPLATES")
	item["gsi1sk"] = str(namespace + "/" + name + "/" + version)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #h = :h"),
		ExpressionAttributeNames:  map[string]string{"#h": "hash"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(hash)},
	})
	if err != nil {
		return mapErr(fmt.Sprintf("register template %s/%s:%s (a different body is registered under this version; bump the version)", namespace, name, version), err)
	}
	return s.raiseLatest(ctx, namespace, name, version)
}

// skLatest is the sort key of a template's latest-version pointer, so
// creating a task without a version reads one item instead of querying
// every version.
const skLatest = "LATEST"

// raiseLatest moves the template's latest-version pointer up to version
// unless it already names an equal or higher one. Concurrent registrations
// race through the guarded write: the loser re-reads and tries again.
func (s *Store) raiseLatest(ctx context.Context, namespace, name, version string) error {
	for {
		cur, err := s.latestPointer(ctx, namespace, name)
		if err != nil && !errors.Is(err, workflow.ErrNotFound) {
			return err
		}
		if cur != "" && compareVersions(cur, version) >= 0 {
			return nil
		}
		item := key(templatePK(namespace, name), skLatest)
		item[aKind] = str("template_latest")
		item["version"] = str(version)
		in := &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if cur != "" {
			in.ConditionExpression = aws.String("version = :cur")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":cur": str(cur)}
		}
		_, err = s.db.PutItem(ctx, in)
		if err = mapErr("raise latest template version", err); !isConflict(err) {
			return err
		}
	}
}

// latestPointer reads the latest-version pointer; workflow.ErrNotFound when
// the template has none (registered before pointers existed, or never).
func (s *Store) latestPointer(ctx context.Context, namespace, name string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(templatePK(namespace, name), skLatest),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("version")})
	if err != nil {
		return "", mapErr("get latest template version", err)
	}
	if out.Item == nil {
		return "", fmt.Errorf("latest version of %s/%s: %w", namespace, name, workflow.ErrNotFound)
	}
	return getS(out.Item, "version"), nil
}

// GetTemplate reads a registered template version; workflow.ErrNotFound when missing.
func (s *Store) GetTemplate(ctx context.Context, namespace, name, version string) (*TemplateRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(templatePK(namespace, name), "V#"+version)})
	if err != nil {
		return nil, mapErr("get template", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("template %s/%s:%s: %w", namespace, name, version, workflow.ErrNotFound)
	}
	return templateRecord(out.Item), nil
}

// ListTemplates lists every registered template version, ordered by namespace, name, version.
func (s *Store) ListTemplates(ctx context.Context) ([]*TemplateRecord, error) {
	var recs []*TemplateRecord
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(resources.IndexByNamespace),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("TEMPLATES")},
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, mapErr("list templates", err)
		}
		for _, it := range out.Items {
			recs = append(recs, templateRecord(it))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return recs, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// LatestTemplateVersion returns the highest registered version of a template
// (semantic version order); workflow.ErrNotFound when none is registered.
// It reads the pointer PutTemplate keeps, and queries the versions only for
// a template registered before pointers existed.
func (s *Store) LatestTemplateVersion(ctx context.Context, namespace, name string) (string, error) {
	if v, err := s.latestPointer(ctx, namespace, name); !errors.Is(err, workflow.ErrNotFound) {
		return v, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :v)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(templatePK(namespace, name)), ":v": str("V#")},
		ProjectionExpression:      aws.String("version"),
	})
	if err != nil {
		return "", mapErr("latest template version", err)
	}
	best := ""
	for _, it := range out.Items {
		v := getS(it, "version")
		if best == "" || compareVersions(v, best) > 0 {
			best = v
		}
	}
	if best == "" {
		return "", fmt.Errorf("template %s/%s: %w", namespace, name, workflow.ErrNotFound)
	}
	return best, nil
}

func templateRecord(it map[string]types.AttributeValue) *TemplateRecord {
	return &TemplateRecord{Namespace: getS(it, "namespace"), Name: getS(it, "name"), Version: getS(it, "version"),
		Body: []byte(getS(it, "body")), Hash: getS(it, "hash")}
}

// compareVersions compares semantic versions: numeric core parts as
// numbers, a release above its pre-releases, pre-release identifiers as
// semver orders them (numeric below alphanumeric).
func compareVersions(a, b string) int {
	coreA, preA, _ := strings.Cut(a, "-")
	coreB, preB, _ := strings.Cut(b, "-")
	if c := compareIdentifiers(strings.Split(coreA, "."), strings.Split(coreB, ".")); c != 0 {
		return c
	}
	switch {
	case preA == preB:
		return 0
	case preA == "":
		return 1
	case preB == "":
		return -1
	}
	return compareIdentifiers(strings.Split(preA, "."), strings.Split(preB, "."))
}

// compareIdentifiers compares dot-separated identifiers; a shorter list that
// is a prefix of a longer one sorts first.
func compareIdentifiers(pa, pb []string) int {
	for i := 0; i < max(len(pa), len(pb)); i++ {
		if i >= len(pa) {
			return -1
		}
		if i >= len(pb) {
			return 1
		}
		x, y := pa[i], pb[i]
		dx, dy := isDigits(x), isDigits(y)
		switch {
		case dx && dy:
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) < len(y) {
					return -1
				}
				return 1
			}
		case dx:
			return -1
		case dy:
			return 1
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
