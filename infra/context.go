package infra

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ContextLookup returns the CDK context value of key, nil when unset. Values
// given with -c arrive as strings; values in cdk.json keep their JSON type.
type ContextLookup func(key string) any

// ConfigFromContext builds the Config of the app at module root root from
// CDK context (see the Context constants) and the environment:
// EnvPlaceholderCode, and CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION which the
// CDK CLI sets from the active profile. It returns an error for a context
// value of the wrong form or an invalid stage.
func ConfigFromContext(root string, ctx ContextLookup, getenv func(string) string) (Config, error) {
	var errs []error
	str := func(key, def string) string {
		v, err := contextString(ctx(key), def)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
		return v
	}
	flag := func(key string, def bool) bool {
		v, err := contextBool(ctx(key), def)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
		return v
	}
	cfg := Config{
		Stage:               str(ContextStage, DefaultStage),
		Tracing:             flag(ContextTracing, false),
		BinDir:              filepath.Join(root, "bin"),
		TemplatesDir:        filepath.Join(root, "templates"),
		SampleWorkers:       flag(ContextSampleWorkers, true),
		ReservedConcurrency: flag(ContextReservedConcurrency, true),
		APIKeysSecret:       str(ContextAPIKeysSecret, ""),
		JWTJWKSURL:          str(ContextJWTJWKSURL, ""),
		JWTPublicKey:        str(ContextJWTPublicKey, ""),
		AlarmTopicARN:       str(ContextAlarmTopicARN, ""),
		LogLevel:            str(ContextLogLevel, "info"),
		Account:             getenv("CDK_DEFAULT_ACCOUNT"),
		Region:              getenv("CDK_DEFAULT_REGION"),
	}
	envPlaceholder, err := contextBool(nonEmpty(getenv(EnvPlaceholderCode)), false)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvPlaceholderCode, err))
	}
	if flag(ContextPlaceholderCode, false) || envPlaceholder {
		cfg.PlaceholderDir = PlaceholderDir(root)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// PlaceholderDir returns the directory of the placeholder bootstrap under
// module root root.
func PlaceholderDir(root string) string {
	return filepath.Join(root, "infra", "testdata", "placeholder")
}

// ModuleRoot returns the nearest directory at or above dir holding go.mod.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
	}
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func contextString(v any, def string) (string, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case string:
		if v == "" {
			return def, nil
		}
		return v, nil
	default:
		return "", fmt.Errorf("want a string, got %T", v)
	}
}

func contextBool(v any, def bool) (bool, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		if v == "" {
			return def, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("want true or false, got %q", v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("want true or false, got %T", v)
	}
}
