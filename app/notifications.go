package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bacninh/thuvienso/fcm"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/store"
)

// DispatchInterval is how often the notification dispatcher runs: events
// become notifications, and due pushes are sent, within about this long.
const DispatchInterval = 5 * time.Second

// openNotifications builds the notification service, pushing through FCM
// when configured (else logging pushes), fanning broadcasts out to the
// readers the accounts store lists and running saved searches on this
// instance's search index; and its dispatcher, which reads the event log
// and the open deadlines: e-book loans ending, circulation's loans due
// (DUE_SOON) and overdue (OVERDUE), and ready holds whose pickup deadline
// nears (HOLD_EXPIRING).
func (a *App) openNotifications(ctx context.Context) error {
	sender, err := a.pushSender(ctx)
	if err != nil {
		return err
	}
	opts := []notifications.Option{notifications.WithClock(a.now), notifications.WithBroker(a.Broker),
		notifications.WithDescriber(a.describeNotification), notifications.WithLogger(a.Logger),
		notifications.WithReaders(a.Stores.Auth)}
	if a.Index != nil {
		opts = append(opts, notifications.WithSearcher(a.Index))
	}
	a.Notifications = notifications.NewService(a.Stores.Notifications, sender, opts...)
	a.NotificationDispatcher = notifications.NewDispatcher(a.Notifications, a.Stores.Events, a.Locker,
		notifications.DefaultDispatcherConfig(), notificationSources(a.Stores)...)
	return nil
}

// notificationSources are the open deadlines the dispatcher reminds
// readers of.
func notificationSources(s *store.Set) []notifications.Source {
	return []notifications.Source{
		notifications.EbookLoanSource{Loans: s.Ebooks},
		notifications.CirculationLoanSource{Loans: s.Circulation, Reminds: notifications.DueSoon},
		notifications.CirculationLoanSource{Loans: s.Circulation, Reminds: notifications.Overdue},
		notifications.CirculationHoldSource{Holds: s.Circulation},
	}
}

// pushSender returns the FCM sender the configuration asks for, or a
// sender that logs pushes.
func (a *App) pushSender(ctx context.Context) (notifications.Sender, error) {
	c := a.Config
	if !c.PushesViaFCM() {
		a.Logger.Info("push notifications are logged, not sent: set GOOGLE_APPLICATION_CREDENTIALS or FIREBASE_PROJECT_ID to send them through Firebase")
		return notifications.LogSender{Logger: a.Logger}, nil
	}
	s, err := fcm.New(ctx, fcm.Config{ProjectID: c.FirebaseProjectID, CredentialsFile: c.GoogleCredentials,
		Endpoint: c.FCMEndpoint, WithoutAuthentication: c.FCMEndpoint != "" && c.GoogleCredentials == ""}, a.Logger)
	if err != nil {
		return nil, fmt.Errorf("push notifications: %w", err)
	}
	a.Logger.Info("push notifications go through Firebase Cloud Messaging", "project", c.FirebaseProjectID, "endpoint", c.FCMEndpoint)
	return s, nil
}

// startNotifications runs the dispatcher every DispatchInterval until
// Close. Every instance runs it; a pass works only under the lock, so one
// instance works at a time (see notifications.Dispatcher).
func (a *App) startNotifications() {
	a.registerNotificationMetrics(a.Server.Registry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	go func() {
		defer close(done)
		a.NotificationDispatcher.Run(ctx, DispatchInterval)
	}()
}

// describeNotification names what a notification is about: the e-book
// title or catalog work, and the library.
func (a *App) describeNotification(ctx context.Context, data map[string]string) map[string]string {
	out := map[string]string{}
	if id := data["titleId"]; id != "" && a.Stores.Ebooks != nil {
		if t, err := a.Stores.Ebooks.Title(ctx, id); err == nil {
			out["title"] = t.Name
		}
	}
	if id := data["workId"]; id != "" && out["title"] == "" {
		if ws, err := a.Stores.Catalog.WorksByID(ctx, []string{id}); err == nil && len(ws) == 1 {
			out["title"] = ws[0].Title
		}
	}
	if id := data["libraryId"]; id != "" {
		if l, err := a.Stores.Libraries.Library(ctx, id); err == nil {
			out["library"] = l.Name
		}
	}
	return out
}

// registerNotificationMetrics exposes the push counters.
func (a *App) registerNotificationMetrics(reg *prometheus.Registry) {
	for _, m := range []struct {
		name, help string
		value      func(notifications.Stats) int64
	}{
		{"thuvienso_notifications_created_total", "Notifications stored in readers' inboxes.", func(s notifications.Stats) int64 { return s.Created }},
		{"thuvienso_pushes_sent_total", "Pushes that reached at least one device.", func(s notifications.Stats) int64 { return s.Sent }},
		{"thuvienso_pushes_failed_total", "Pushes given up on (the inbox keeps them).", func(s notifications.Stats) int64 { return s.Failed }},
		{"thuvienso_pushes_retried_total", "Push attempts rescheduled after a transient failure.", func(s notifications.Stats) int64 { return s.Retried }},
		{"thuvienso_push_tokens_pruned_total", "Device tokens removed as unregistered or invalid.", func(s notifications.Stats) int64 { return s.TokensPruned }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help},
			func() float64 { return float64(m.value(a.Notifications.Stats())) }))
	}
}
