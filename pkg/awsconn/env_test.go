package awsconn

import "testing"

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		want     bool
	}{
		{"http://127.0.0.1:4566", true},
		{"http://localhost:4566", true},
		{"http://LOCALHOST", true},
		{"http://127.1.2.3:80", true},
		{"http://[::1]:4566", true},
		{"127.0.0.1:4566", true},
		{"localhost", true},
		{"https://dynamodb.us-east-1.amazonaws.com", false},
		{"http://192.168.1.10:4566", false},
		{"http://localhost.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.endpoint); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.endpoint, got, tt.want)
		}
	}
}

// Not parallel: it sets environment variables.
func TestFromEnv(t *testing.T) {
	vars := []string{EnvEndpoint, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_REGION", "AWS_DEFAULT_REGION"}
	tests := []struct {
		name string
		env  map[string]string
		want Options
	}{
		{"nothing", nil, Options{}},
		{"tasker endpoint", map[string]string{EnvEndpoint: "http://127.0.0.1:4566"}, Options{Endpoint: "http://127.0.0.1:4566", Local: true}},
		{"sdk endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, Options{Local: true}},
		{"sqs only", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://localhost:9324"}, Options{Local: true}},
		{"remote endpoint", map[string]string{EnvEndpoint: "https://vpce.example.com"}, Options{Endpoint: "https://vpce.example.com"}},
		{"region", map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, Options{Region: "eu-west-1"}},
		{"default region", map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, Options{Region: "us-west-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tt.env[v])
			}
			got := FromEnv()
			if got.Endpoint != tt.want.Endpoint || got.Local != tt.want.Local || got.Region != tt.want.Region {
				t.Errorf("FromEnv() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
