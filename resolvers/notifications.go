package resolvers

import (
	"context"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/notifications"
)

// inbox is a page of the actor's inbox with its total.
func (r *Resolver) inbox(ctx context.Context, unreadOnly bool, first *int, after *string) (*model.NotificationConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	conn := &model.NotificationConnection{Edges: []*model.NotificationEdge{}}
	if conn.TotalCount, err = r.NotificationService.Count(ctx, a, unreadOnly); err != nil {
		return nil, err
	}
	if n == 0 {
		return conn, nil
	}
	p, err := r.NotificationService.Inbox(ctx, a, n, deref(after), unreadOnly)
	if err != nil {
		return nil, err
	}
	for _, nt := range p.Notifications {
		conn.Edges = append(conn.Edges, &model.NotificationEdge{Cursor: notifications.EncodeCursor(notifications.CursorOf(nt)), Node: *nt})
	}
	conn.PageInfo = keysetPageInfo(p.HasNextPage, deref(after) != "", len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// preferencesUpdate converts the schema's input, checking the times.
func preferencesUpdate(in model.UpdateNotificationPreferencesInput, cur *notifications.Preferences) (notifications.PreferencesUpdate, error) {
	u := notifications.PreferencesUpdate{DaysBeforeDue: nilIfAbsent(in.DaysBeforeDue)}
	if in.Kinds != nil {
		u.Kinds = &in.Kinds
	}
	if in.QuietStart != nil || in.QuietEnd != nil {
		q := cur.Quiet
		var err error
		if in.QuietStart != nil {
			if q.Start, err = notifications.ParseTimeOfDay(*in.QuietStart); err != nil {
				return u, err
			}
		}
		if in.QuietEnd != nil {
			if q.End, err = notifications.ParseTimeOfDay(*in.QuietEnd); err != nil {
				return u, err
			}
		}
		u.Quiet = &q
	}
	if in.Language != nil {
		l := string(*in.Language)
		u.Language = &l
	}
	return u, nil
}

// nilIfAbsent is the address of a list the client sent, nil when it sent none.
func nilIfAbsent[T any](s []T) *[]T {
	if s == nil {
		return nil
	}
	return &s
}

// broadcasts is a page of the messages sent to readers.
func (r *Resolver) broadcasts(ctx context.Context, libraryID *string, first *int, after *string) (*model.BroadcastConnection, error) {
	a, err := auth.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	conn := &model.BroadcastConnection{Edges: []*model.BroadcastEdge{}}
	if n == 0 {
		return conn, nil
	}
	p, err := r.NotificationService.Broadcasts(ctx, a, deref(libraryID), n, deref(after))
	if err != nil {
		return nil, err
	}
	for _, b := range p.Broadcasts {
		conn.Edges = append(conn.Edges, &model.BroadcastEdge{Cursor: notifications.BroadcastCursor(b), Node: *b})
	}
	conn.PageInfo = keysetPageInfo(p.HasNextPage, deref(after) != "", len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}
