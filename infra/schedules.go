package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/schedule"
)

// Template schedules run in AWS as EventBridge Scheduler schedules, one per
// schedule of a deployed template. A schedule does not call the API (the
// intake sits behind API Gateway and the authorizer, and an API Gateway
// event would have to be forged); it sends a fire_schedule message to the
// orchestration queue, which the scheduler function consumes like any
// other orchestration message. The engine then creates the task from the
// template's schedule (its context) with the idempotency key of the slot
// (pkg/schedule.IdempotencyKey), so a slot delivered twice makes one task.
const (
	// KindFireSchedule is the orchestration message kind a schedule sends.
	KindFireSchedule = "fire_schedule"
	// ScheduledTimePlaceholder is replaced by EventBridge Scheduler with the
	// slot's scheduled time, RFC 3339 in UTC ("2026-11-27T06:00:00Z").
	ScheduledTimePlaceholder = "<aws.scheduler.scheduled-time>"
	// FireScheduleExample is the body of a fire_schedule message as it
	// arrives on the orchestration queue.
	FireScheduleExample = `{"v":1,"kind":"fire_schedule","namespace":"scheduled_jobs","name":"daily_reporting",` +
		`"version":"1.0","schedule":"daily","slot":"2026-11-27T06:00:00Z"}`
)

// FireScheduleMessage is the orchestration message a template schedule
// sends: which template version and schedule fired, and for which slot.
// The engine reads the schedule's context from the registered template.
type FireScheduleMessage struct {
	V         int    `json:"v"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Schedule  string `json:"schedule"`
	// Slot is the scheduled time of the firing, RFC 3339 UTC.
	Slot string `json:"slot"`
}

// TemplateSchedule is one schedule of one template, as deployed.
type TemplateSchedule struct {
	Namespace, Name, Version string
	// Schedule is the schedule's name within its template.
	Schedule string
	// Expression is an EventBridge Scheduler expression: rate(…), cron(…)
	// or at(…) (pkg/schedule parses the same forms locally).
	Expression string
	// Timezone is an IANA zone name; empty means UTC.
	Timezone string
	Enabled  bool
}

// scheduleRetry: a send to SQS that fails is retried for up to an hour,
// then lands in the orchestration DLQ (alarmed), whence a redrive fires it.
const (
	scheduleMaxRetries = 10
	scheduleMaxAgeSecs = 3600
)

// message returns the target input: the fire_schedule message with the slot
// left for EventBridge Scheduler to fill in.
func (s TemplateSchedule) message() string {
	return mustJSON(FireScheduleMessage{
		V: protocol.Version, Kind: KindFireSchedule,
		Namespace: s.Namespace, Name: s.Name, Version: s.Version, Schedule: s.Schedule,
		Slot: ScheduledTimePlaceholder,
	})
}

func (s TemplateSchedule) validate() error {
	loc, err := time.LoadLocation(s.Timezone) // "" is UTC
	if err != nil {
		return fmt.Errorf("schedule %s of %s/%s:%s: time zone: %w", s.Schedule, s.Namespace, s.Name, s.Version, err)
	}
	if _, err := schedule.Parse(s.Expression, loc); err != nil {
		return fmt.Errorf("schedule %s of %s/%s:%s: %w", s.Schedule, s.Namespace, s.Name, s.Version, err)
	}
	return nil
}

var scheduleNameUnsafe = regexp.MustCompile(`[^0-9A-Za-z_.-]`)

// scheduleName returns a schedule name unique within the stage's group:
// "<namespace>.<name>.<version>.<schedule>", or, when that has characters
// EventBridge refuses or exceeds its 64, a readable prefix and a hash.
func (s TemplateSchedule) scheduleName() string {
	full := strings.Join([]string{s.Namespace, s.Name, s.Version, s.Schedule}, ".")
	safe := scheduleNameUnsafe.ReplaceAllString(full, "_")
	if safe == full && len(full) <= 64 {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	return fmt.Sprintf("%.47s-%s", safe, hex.EncodeToString(sum[:])[:16])
}

// AddTemplateSchedules deploys schedules (see TemplateSchedule) into a
// schedule group named after the stage's prefix, with a role that may only
// send to the orchestration queue and its DLQ. It may be called more than
// once. It returns an error for an expression or time zone EventBridge
// would refuse (checked with pkg/schedule, as `tasker dev` reads them) and
// for two schedules with one name.
func (t *Tasker) AddTemplateSchedules(schedules []TemplateSchedule) error {
	for _, s := range schedules {
		if err := s.validate(); err != nil {
			return err
		}
		name := s.scheduleName()
		if t.scheduleNames[name] {
			return fmt.Errorf("schedule %s of %s/%s:%s: deployed twice", s.Schedule, s.Namespace, s.Name, s.Version)
		}
		t.scheduleNames[name] = true
		group, role := t.scheduleGroup()
		state := "ENABLED"
		if !s.Enabled {
			state = "DISABLED"
		}
		tz := s.Timezone
		if tz == "" {
			tz = "UTC"
		}
		sch := awsscheduler.NewCfnSchedule(t.Scope, jsii.String("Schedule-"+name), &awsscheduler.CfnScheduleProps{
			Name:                       jsii.String(name),
			GroupName:                  group.Name(),
			Description:                jsii.String(fmt.Sprintf("Tasker: schedule %s of %s/%s:%s", s.Schedule, s.Namespace, s.Name, s.Version)),
			ScheduleExpression:         jsii.String(s.Expression),
			ScheduleExpressionTimezone: jsii.String(tz),
			State:                      jsii.String(state),
			// Off: fire at the slot, so the slot time is the task's identity.
			FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:     t.Orchestration.Queue.QueueArn(),
				RoleArn: role.RoleArn(),
				Input:   jsii.String(s.message()),
				RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
					MaximumRetryAttempts:     jsii.Number(scheduleMaxRetries),
					MaximumEventAgeInSeconds: jsii.Number(scheduleMaxAgeSecs),
				},
				DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: t.Orchestration.DLQ.QueueArn()},
			},
		})
		sch.Node().AddDependency(group)
	}
	return nil
}

// scheduleGroup returns the stage's schedule group and the role its
// schedules assume, creating them on first use.
func (t *Tasker) scheduleGroup() (awsscheduler.CfnScheduleGroup, awsiam.Role) {
	if t.schedules.group != nil {
		return t.schedules.group, t.schedules.role
	}
	t.schedules.group = awsscheduler.NewCfnScheduleGroup(t.Scope, jsii.String("TemplateScheduleGroup"), &awsscheduler.CfnScheduleGroupProps{
		Name: jsii.String(t.names.Prefix),
	})
	account := awscdk.Stack_Of(t.Scope).Account()
	t.schedules.role = awsiam.NewRole(t.Scope, jsii.String("TemplateSchedulesRole"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler: send template schedules' fire_schedule messages"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
		}),
	})
	t.schedules.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{t.Orchestration.Queue.QueueArn(), t.Orchestration.DLQ.QueueArn()},
	}))
	return t.schedules.group, t.schedules.role
}
