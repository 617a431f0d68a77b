package samplehandlers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

const userContext = `{"user_id": "u-100", "email": "ana@example.com"}`

func TestUserRegistrationTemplate(t *testing.T) {
	t.Parallel()

	t.Run("happy path", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "user_onboarding/user_registration.yaml", userContext)
		require.Equal(t, "complete", st.state(), st)
		profile := fields(t, st.step("create_user_profile").result)
		require.Equal(t, "ana", profile["display_name"])
		prefs := fields(t, st.step("setup_notification_preferences").result)
		require.Equal(t, profile["profile_id"], prefs["profile_id"])
		require.JSONEq(t, `{"email": true, "push": false, "sms": false}`, mustJSON(t, prefs["channels"]))
		require.Equal(t, "web", fields(t, st.step("track_user_signup").result)["source"])
		email := fields(t, st.step("send_welcome_email").result)
		require.Equal(t, true, email["sent"])
		require.Equal(t, "ana@example.com", email["recipient"])
		require.Equal(t, "welcome_v1", email["template"])
	})

	t.Run("duplicate email", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "user_onboarding/user_registration.yaml", withContext(userContext, `"duplicate_email": true`))
		p := st.step("create_user_profile")
		require.Equal(t, "error", p.state)
		require.Equal(t, 1, p.attempts)
		require.Equal(t, samplehandlers.ErrorTypeDuplicateEmail, p.err.Type)
		require.Zero(t, st.step("track_user_signup").attempts)
		require.Zero(t, st.step("send_welcome_email").attempts)
	})

	t.Run("profile service retried", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "user_onboarding/user_registration.yaml", withContext(userContext, `"fail_profile_times": 2`))
		require.Equal(t, "complete", st.state(), st)
		require.Equal(t, 3, st.step("create_user_profile").attempts)
	})
}

func TestOnboardingRejects(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	for _, ctx := range []string{`{"email": "a@b.c"}`, `{"user_id": "u"}`, `{"user_id": "u", "email": "nope"}`, `{"user_id": "u", "email": "@b"}`, `{"user_id": "u", "email": "a@b@c"}`} {
		_, err := call(t, reg, "onboarding.create_auth_account", stepSpec{Context: ctx})
		requirePermanent(t, err)
	}
	_, err := call(t, reg, "onboarding.create_user_profile", stepSpec{Context: userContext})
	requirePermanent(t, err) // no create_auth_account result

	res := mustCall(t, reg, "onboarding.send_welcome_email", stepSpec{Context: userContext, Parents: map[string]string{
		"setup_notification_preferences": `{"channels": {"email": false}}`,
	}})
	require.JSONEq(t, `{"sent": false, "user_id": "u-100", "reason": "email_notifications_disabled"}`, string(res))
}
