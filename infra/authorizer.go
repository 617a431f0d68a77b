package infra

import (
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/pkg/auth"
)

const (
	// authorizerMemoryMB: hashing a key or verifying one RS256 signature
	// is microseconds of CPU; the smallest size suffices.
	authorizerMemoryMB = 128
	// authorizerTimeout covers a cold-start JWKS fetch, whose HTTP client
	// gives up after 10 s; an API key check takes microseconds.
	authorizerTimeout = 10 * time.Second
	// GeneratedKeyName is the name of the API key the stack generates when
	// no secret is given; it holds every permission.
	GeneratedKeyName = "admin"
	// generatedKeyField is the JSON field of the generated secret holding
	// the key value.
	generatedKeyField = "key"
)

// APIKeysSecretName returns the name of the secret the stack generates for
// its API key: "<prefix>/api-keys".
func (t *Tasker) APIKeysSecretName() string { return t.names.Prefix + "/api-keys" }

// addAuthorizer builds the authorizer function (functions/authorizer). Its
// configuration is pkg/auth's environment (authEnvironment). The function
// needs no AWS permission beyond its logs.
func (t *Tasker) addAuthorizer() error {
	code, err := t.code("authorizer")
	if err != nil {
		return err
	}
	t.Authorizer = t.newFunction(t.Scope, "Authorizer", functionSpec{
		short: "authorizer", description: "Tasker HTTP API Lambda authorizer (API keys, JWT)",
		code: code, memoryMB: authorizerMemoryMB, timeout: authorizerTimeout, env: t.authEnvironment(),
	})
	return nil
}

// authEnvironment returns pkg/auth's environment (auth.ConfigFromEnv), the
// same for the authorizer and for the intake, whose dashboard (/ui)
// authenticates its session cookie with it: TASKER_API_KEYS comes from a
// Secrets Manager secret through a CloudFormation dynamic reference, so the
// key is in neither the template nor cdk.out; the JWT settings come from
// context. It is built once (the generated secret with it).
func (t *Tasker) authEnvironment() map[string]string {
	if t.authEnv != nil {
		return t.authEnv
	}
	env := map[string]string{auth.EnvAPIKeys: t.apiKeysValue()}
	if t.cfg.JWTJWKSURL != "" {
		env[auth.EnvJWTJWKSURL] = t.cfg.JWTJWKSURL
	}
	if t.cfg.JWTPublicKey != "" {
		env[auth.EnvJWTPublicKey] = t.cfg.JWTPublicKey
	}
	t.authEnv = env
	return env
}

// apiKeysValue returns TASKER_API_KEYS: the configured secret's whole value
// ("name:key:permissions;…"), or an entry for a key the stack generates
// with every permission.
func (t *Tasker) apiKeysValue() string {
	if t.cfg.APIKeysSecret != "" {
		return *awscdk.SecretValue_SecretsManager(jsii.String(t.cfg.APIKeysSecret), nil).UnsafeUnwrap()
	}
	secret := awssecretsmanager.NewSecret(t.Scope, jsii.String("APIKeys"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(t.APIKeysSecretName()),
		Description: jsii.String("Tasker " + t.cfg.Stage + ": the generated API key (field \"key\", sent as X-API-Key)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"name":"` + GeneratedKeyName + `"}`),
			GenerateStringKey:    jsii.String(generatedKeyField),
			// Letters and digits only: ':' and ';' separate TASKER_API_KEYS entries.
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
			PasswordLength:     jsii.Number(40),
		},
		RemovalPolicy: removalPolicy(t.cfg.IsProd()),
	})
	t.apiKeysSecret = secret
	key := awscdk.SecretValue_SecretsManager(secret.SecretArn(), &awscdk.SecretsManagerSecretOptions{
		JsonField: jsii.String(generatedKeyField),
	}).UnsafeUnwrap()
	return GeneratedKeyName + ":" + *key + ":" + strings.Join(allPermissions(), ",")
}

// allPermissions returns a "resource:*" wildcard for every resource of
// pkg/auth's vocabulary (a bare "*" is not accepted).
func allPermissions() []string {
	var perms []string
	for _, r := range auth.Resources() {
		perms = append(perms, r+":*")
	}
	return perms
}
