package samplehandlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tasker-go/tasker/pkg/worker"
)

// ErrorTypeDuplicateEmail is the permanent error create_user_profile
// reports when the context sets "duplicate_email": true.
const ErrorTypeDuplicateEmail = "duplicate_email"

// welcomeTemplate is the email template of the welcome message.
const welcomeTemplate = "welcome_v1"

func (h samples) onboardingHandlers() []entry {
	return []entry{
		{"onboarding.create_auth_account", h.createAuthAccount},
		{"onboarding.create_user_profile", h.createUserProfile},
		{"onboarding.setup_notification_preferences", h.setupNotificationPreferences},
		{"onboarding.track_user_signup", h.trackUserSignup},
		{"onboarding.send_welcome_email", h.sendWelcomeEmail},
		{"onboarding.delete_auth_account", undoStep("auth_account_deleted")},
		{"onboarding.deactivate_user", undoStep("user_deactivated")},
	}
}

// newUser is the user a registration task carries in its context.
type newUser struct {
	ID    string
	Email string
}

// readUser reads user_id and email (required; the email needs one "@" with
// text on both sides) from the task context.
func readUser(s *worker.Step) (*newUser, object, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return nil, nil, err
	}
	u := &newUser{}
	if u.ID, err = ctx.str("user_id", true); err != nil {
		return nil, nil, err
	}
	if u.Email, err = ctx.str("email", true); err != nil {
		return nil, nil, err
	}
	local, domain, ok := strings.Cut(u.Email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return nil, nil, invalid("email %q is not an email address", u.Email)
	}
	return u, ctx, nil
}

// createAuthAccount creates the user's login with the auth service and
// returns the account and a session token for the next service.
func (h samples) createAuthAccount(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	u, _, err := readUser(s)
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"auth_account_id": stableID("auth_", u.ID),
		"user_id":         u.ID,
		"email":           u.Email,
		"auth_token":      stableID("tok_", key),
		"created_at":      h.stamp(),
	})
}

// createUserProfile creates the profile with the auth account's token. The
// context can make it fail: "duplicate_email": true fails permanently
// (the seed's compensation case), "fail_profile_times": n fails the first n
// attempts with a retryable service_unavailable.
func (h samples) createUserProfile(_ context.Context, s *worker.Step) (worker.Result, error) {
	u, ctx, err := readUser(s)
	if err != nil {
		return worker.Result{}, err
	}
	if _, err := parentField(s, "create_auth_account", "auth_token"); err != nil {
		return worker.Result{}, err
	}
	failTimes, err := ctx.integer("fail_profile_times", 0)
	if err != nil {
		return worker.Result{}, err
	}
	if err := failFirst(s, failTimes, ErrorTypeServiceUnavailable, "profile service unavailable"); err != nil {
		return worker.Result{}, err
	}
	duplicate, err := ctx.flag("duplicate_email")
	if err != nil {
		return worker.Result{}, err
	}
	if duplicate {
		return worker.Result{}, rejected(ErrorTypeDuplicateEmail, "a profile with email %s already exists", u.Email).
			WithContext(map[string]any{"email": u.Email}).WithCompensation()
	}
	name, err := ctx.str("display_name", false)
	if err != nil {
		return worker.Result{}, err
	}
	if name == "" {
		name, _, _ = strings.Cut(u.Email, "@")
	}
	return worker.Success(map[string]any{
		"profile_id":   stableID("prof_", u.ID),
		"user_id":      u.ID,
		"display_name": name,
		"preferences":  map[string]string{"locale": "en-US", "timezone": "UTC"},
		"created_at":   h.stamp(),
	})
}

// notificationChannels says which channels a user is reached on.
type notificationChannels struct {
	Email bool `json:"email"`
	Push  bool `json:"push"`
	SMS   bool `json:"sms"`
}

// setupNotificationPreferences turns on email notifications (push and SMS
// stay off until the user opts in) and records the marketing consent from
// context.marketing_opt_in.
func (h samples) setupNotificationPreferences(_ context.Context, s *worker.Step) (worker.Result, error) {
	u, ctx, err := readUser(s)
	if err != nil {
		return worker.Result{}, err
	}
	profile, err := parentField(s, "create_user_profile", "profile_id")
	if err != nil {
		return worker.Result{}, err
	}
	marketing, err := ctx.flag("marketing_opt_in")
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"user_id":          u.ID,
		"profile_id":       profile,
		"channels":         notificationChannels{Email: true},
		"marketing_emails": marketing,
		"digest":           "weekly",
		"configured_at":    h.stamp(),
	})
}

// trackUserSignup records the signup event with analytics; the source is
// context.signup_source ("web" by default).
func (h samples) trackUserSignup(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	u, ctx, err := readUser(s)
	if err != nil {
		return worker.Result{}, err
	}
	if _, err := parentField(s, "create_user_profile", "profile_id"); err != nil {
		return worker.Result{}, err
	}
	source, err := ctx.str("signup_source", false)
	if err != nil {
		return worker.Result{}, err
	}
	if source == "" {
		source = "web"
	}
	return worker.Success(map[string]any{
		"event":      "user_signed_up",
		"event_id":   stableID("evt_", key),
		"user_id":    u.ID,
		"source":     source,
		"tracked_at": h.stamp(),
	})
}

// sendWelcomeEmail sends the welcome email when the user's preferences allow
// email, and reports {"sent": false} with the reason otherwise.
func (h samples) sendWelcomeEmail(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	u, _, err := readUser(s)
	if err != nil {
		return worker.Result{}, err
	}
	prefs, err := parentObject(s, "setup_notification_preferences")
	if err != nil {
		return worker.Result{}, err
	}
	var channels notificationChannels
	if err := prefs.decode("channels", &channels); err != nil {
		return worker.Result{}, err
	}
	if !channels.Email {
		return worker.Success(map[string]any{"sent": false, "user_id": u.ID, "reason": "email_notifications_disabled"})
	}
	return worker.Success(map[string]any{
		"sent":       true,
		"user_id":    u.ID,
		"recipient":  u.Email,
		"template":   welcomeTemplate,
		"message_id": stableID("msg_", key),
		"sent_at":    h.stamp(),
	})
}

// undoStep returns a compensation handler: it reads which step it undoes
// and that step's result (the ids to clean up) and reports what it undid.
// Compensations are best effort: the result says what was cleaned up.
func undoStep(what string) worker.HandlerFunc {
	return func(_ context.Context, s *worker.Step) (worker.Result, error) {
		in, err := s.CompensationInputs()
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		var undone map[string]any
		if len(in.Result) > 0 {
			if err := json.Unmarshal(in.Result, &undone); err != nil {
				return worker.Result{}, worker.Permanent(fmt.Errorf("compensate %s: result: %w", in.Compensates, err))
			}
		}
		return worker.Success(map[string]any{what: true, "compensates": in.Compensates, "undone": undone})
	}
}
