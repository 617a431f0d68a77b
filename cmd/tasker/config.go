package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"
	"github.com/spf13/pflag"
)

// fileConfig is the config file: ~/.config/tasker/config.yaml by default.
type fileConfig struct {
	APIURL string `yaml:"api_url"`
	APIKey string `yaml:"api_key"`
}

// connection is where the API is and how to authenticate.
type connection struct {
	apiURL string
	apiKey string
}

// setting is one resolved value and where it came from, for error messages.
type setting struct {
	value, source string
}

// resolveConnection combines the flags, the environment and the config file:
// a flag wins over the environment, which wins over the file. Errors are
// usage errors naming the flag, variable or file at fault.
func resolveConnection(flags *pflag.FlagSet, g *globals) (connection, error) {
	cfg, path, err := loadConfig(g.configPath, flags.Changed("config"), g.getenv)
	if err != nil {
		return connection{}, err
	}
	pick := func(flag, flagValue, env, key, fileValue, def string) setting {
		switch {
		case flags.Changed(flag):
			return setting{flagValue, "--" + flag}
		case g.getenv(env) != "":
			return setting{g.getenv(env), "$" + env}
		case fileValue != "":
			return setting{fileValue, key + " in " + path}
		}
		return setting{def, "the default"}
	}
	apiURL := pick("api", g.apiURL, envAPIURL, "api_url", cfg.APIURL, defaultAPIURL)
	if err := checkAPIURL(apiURL.value); err != nil {
		return connection{}, usageErrorf("%s: %v", apiURL.source, err)
	}
	apiKey := pick("api-key", g.apiKey, envAPIKey, "api_key", cfg.APIKey, "")
	if apiKey.source == "api_key in "+path && g.stderr != nil {
		warnIfReadable(g.stderr, path)
	}
	return connection{apiURL: apiURL.value, apiKey: apiKey.value}, nil
}

// checkAPIURL requires an absolute http(s) URL.
func checkAPIURL(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", v)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http:// or https:// URL such as %s", v, defaultAPIURL)
	case u.Host == "":
		return fmt.Errorf("%q has no host", v)
	}
	return nil
}

// defaultConfigPath is $XDG_CONFIG_HOME/tasker/config.yaml, else
// ~/.config/tasker/config.yaml; "" when neither variable is set.
func defaultConfigPath(getenv func(string) string) string {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "tasker", "config.yaml")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "tasker", "config.yaml")
	}
	return ""
}

// loadConfig reads the config file. A missing default file is no error; a
// missing --config file is.
func loadConfig(path string, explicit bool, getenv func(string) string) (fileConfig, string, error) {
	if !explicit {
		path = defaultConfigPath(getenv)
	}
	if path == "" {
		return fileConfig{}, "", nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return fileConfig{}, path, nil
	case err != nil && explicit:
		return fileConfig{}, path, usageErrorf("--config: %v", err)
	case err != nil:
		return fileConfig{}, path, usageErrorf("config file %s: %v", path, err)
	}
	var cfg fileConfig
	if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.DisallowUnknownField()); err != nil {
		return fileConfig{}, path, usageErrorf("config file %s (keys: api_url, api_key): %s", path, yaml.FormatError(err, false, false))
	}
	return cfg, path, nil
}

// warnIfReadable warns when a file holding an API key is readable by
// others.
func warnIfReadable(w io.Writer, path string) {
	info, err := os.Stat(path)
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(w, "warning: %s holds an API key and is readable by others (chmod 600 %s)\n", path, path)
	}
}
