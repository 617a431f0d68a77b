package awsconn

import (
	"net"
	"net/url"
	"os"
	"strings"
)

// Environment variables read by FromEnv.
const (
	// EnvEndpoint is Tasker's own endpoint override. Unlike AWS_ENDPOINT_URL
	// it is passed as Options.Endpoint, so it also wins over the
	// service-specific AWS_ENDPOINT_URL_<SERVICE> variables.
	EnvEndpoint = "TASKER_AWS_ENDPOINT"
)

// FromEnv returns Options from the environment: Endpoint from
// TASKER_AWS_ENDPOINT; Local when that endpoint, AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL_SQS points at a loopback host
// (localhost, 127.0.0.0/8, ::1); Region from AWS_REGION, else
// AWS_DEFAULT_REGION. AWS_ENDPOINT_URL* are left to the SDK, which reads them
// itself, so a service-specific one still applies.
func FromEnv() Options {
	o := Options{
		Endpoint: os.Getenv(EnvEndpoint),
		Region:   firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"),
	}
	for _, name := range []string{EnvEndpoint, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"} {
		if IsLoopback(os.Getenv(name)) {
			o.Local = true
		}
	}
	return o
}

// IsLoopback reports whether endpoint is a URL (or host[:port]) whose host is
// localhost or a loopback IP address.
func IsLoopback(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(endpoint); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
