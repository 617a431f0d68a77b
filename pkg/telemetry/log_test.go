package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/telemetry"
)

func TestRedactorJSON(t *testing.T) {
	t.Parallel()
	r := telemetry.NewRedactor(telemetry.DefaultRedactKeys)
	got := r.JSON([]byte(`{"order_id":"O1","card_number":"4111","nested":{"apiKey":"k","items":[{"Password":"p","sku":"A"}]},"db_password":"x"}`))
	var v map[string]any
	require.NoError(t, json.Unmarshal(got, &v))
	require.Equal(t, "O1", v["order_id"])
	require.Equal(t, telemetry.Redacted, v["card_number"])
	require.Equal(t, telemetry.Redacted, v["db_password"])
	nested := v["nested"].(map[string]any)
	require.Equal(t, telemetry.Redacted, nested["apiKey"])
	item := nested["items"].([]any)[0].(map[string]any)
	require.Equal(t, telemetry.Redacted, item["Password"])
	require.Equal(t, "A", item["sku"])
	require.Equal(t, `"[invalid JSON]"`, string(r.JSON([]byte(`{"password":`))))
}

func TestLoggerRedactsAttributes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, slog.LevelInfo, []string{"secret", "token"})
	log.With("token", "abc").Info("step attempt",
		"task_uuid", "t1",
		"context", json.RawMessage(`{"user":"u","secret":"s"}`),
		slog.Group("result", "access_token", "tk", "ok", true),
		"payload", map[string]any{"client_secret": "cs", "n": 1})
	log.Debug("not logged at info")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "t1", line["task_uuid"])
	require.Equal(t, telemetry.Redacted, line["token"])
	require.Equal(t, map[string]any{"user": "u", "secret": telemetry.Redacted}, line["context"])
	require.Equal(t, map[string]any{"access_token": telemetry.Redacted, "ok": true}, line["result"])
	require.Equal(t, map[string]any{"client_secret": telemetry.Redacted, "n": 1.0}, line["payload"])
	require.NotContains(t, buf.String(), "not logged")
	require.NotContains(t, buf.String(), `"s"`)
}

func TestRedactKeysAndLevelFromEnv(t *testing.T) {
	t.Setenv(telemetry.EnvRedactKeys, " ssn , iban ,")
	t.Setenv(telemetry.EnvLogLevel, "warn")
	require.Equal(t, []string{"ssn", "iban"}, telemetry.RedactKeysFromEnv())
	require.Equal(t, slog.LevelWarn, telemetry.LogLevelFromEnv())
	t.Setenv(telemetry.EnvLogLevel, "loud")
	require.Equal(t, slog.LevelInfo, telemetry.LogLevelFromEnv())
}

func TestPayloadAttrLogsNoValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", telemetry.PayloadAttr("context", json.RawMessage(`{"b":"secret-value","a":1}`)))
	require.NotContains(t, buf.String(), "secret-value")
	require.Contains(t, buf.String(), `"context":{"bytes":26,"keys":["a","b"]}`)
}
