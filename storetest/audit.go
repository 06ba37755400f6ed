package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
)

// Audit checks an [account.AuditStore], on a store that also keeps the
// users the events belong to. newStore must return a fresh, empty store on
// each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them. An event belongs to an existing user or to none
// (UserID ""): adding one for a user id that names nobody is ErrNotFound.
// Events are listed by At, newest first; a limit of 0 or less lists none,
// and so does an empty or unknown user id (events without a user are only
// ever deleted by age). DeleteAuditEventsBefore deletes events whose At is
// before `before`, keeps one made exactly then, and counts what it
// deleted, events without a user included. Text is stored verbatim, except
// that IP, UserAgent and Detail, which may quote request headers, may have
// bytes that are not UTF-8 replaced (see [Sessions]).
func Audit(t *testing.T, newStore func(t *testing.T) account.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, account.Backend)
	}{
		{"RoundTrip", testAuditRoundTrip},
		{"ClientText", testAuditClientText},
		{"NewestFirst", testAuditNewestFirst},
		{"Anonymous", testAuditAnonymous},
		{"UnknownUser", testAuditUnknownUser},
		{"DeleteAuditEventsBefore", testDeleteAuditEventsBefore},
		{"DeleteUser", testAuditDeleteUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func userAuditEvents(t *testing.T, s account.AuditStore, userID string, limit int) []account.AuditEvent {
	t.Helper()
	list, err := s.UserAuditEvents(t.Context(), userID, limit)
	if err != nil {
		t.Fatalf("UserAuditEvents(%q, %d): %v", userID, limit, err)
	}
	return list
}

func testAuditRoundTrip(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("audited")
	mustCreateUser(t, s, u)
	want := []*account.AuditEvent{
		{
			UserID:    u.ID,
			Kind:      "password_changed",
			At:        now.Add(-time.Minute),
			IP:        "2001:db8::7",
			UserAgent: `Mozilla/5.0 ("quoted"; 'single'; ünïcödé ☃)`,
			Detail:    `changed from "settings" page; <b>not</b> HTML; 100% \ done`,
		},
		{UserID: u.ID, Kind: "login_ok", At: now}, // empty text fields
	}
	for _, e := range want {
		mustAddAuditEvent(t, s, e)
	}
	if want[0].ID == want[1].ID {
		t.Errorf("two events got the same ID %q", want[0].ID)
	}
	got := userAuditEvents(t, s, u.ID, 10)
	if len(got) != 2 {
		t.Fatalf("UserAuditEvents = %q, want 2 events", auditKinds(got))
	}
	for i, w := range []*account.AuditEvent{want[1], want[0]} {
		if d := diffAuditEvent(got[i], *w); d != "" {
			t.Errorf("UserAuditEvents[%d]: %s", i, d)
		}
	}
}

func testAuditNewestFirst(t *testing.T, s account.Backend) {
	now := timeNow()
	u, other := newUser("busy"), newUser("quiet")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	// Added out of order: the list follows At.
	for _, age := range []int{3, 1, 5, 2, 4} {
		mustAddAuditEvent(t, s, &account.AuditEvent{
			UserID: u.ID,
			Kind:   fmt.Sprintf("event-%d", age),
			At:     now.Add(-time.Duration(age) * time.Minute),
		})
	}
	mustAddAuditEvent(t, s, &account.AuditEvent{UserID: other.ID, Kind: "theirs", At: now})

	all := []string{"event-1", "event-2", "event-3", "event-4", "event-5"}
	for _, c := range []struct {
		user  string
		limit int
		want  []string
	}{
		{u.ID, 100, all},
		{u.ID, 5, all},
		{u.ID, 3, all[:3]},
		{u.ID, 1, all[:1]},
		{u.ID, 0, nil},
		{u.ID, -1, nil},
		{other.ID, 10, []string{"theirs"}},
		{"", 10, nil},
		{"abc", 10, nil},
		{"999999999", 10, nil},
	} {
		got := userAuditEvents(t, s, c.user, c.limit)
		if !slices.Equal(auditKinds(got), c.want) {
			t.Errorf("UserAuditEvents(%q, %d) = %q, want %q", c.user, c.limit, auditKinds(got), c.want)
		}
	}
}

func testAuditAnonymous(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("known")
	mustCreateUser(t, s, u)
	anon := &account.AuditEvent{Kind: "login_failed", At: now, IP: "192.0.2.9", Detail: "unknown email"}
	mustAddAuditEvent(t, s, anon)
	mine := &account.AuditEvent{UserID: u.ID, Kind: "login_failed", At: now}
	mustAddAuditEvent(t, s, mine)
	if anon.ID == mine.ID {
		t.Errorf("two events got the same ID %q", anon.ID)
	}
	wantAuditKinds(t, s, u.ID, []string{"login_failed"})
	wantAuditKinds(t, s, "", nil)
}

func testAuditUnknownUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	gone := newUser("gone")
	mustCreateUser(t, s, gone)
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, id := range []string{gone.ID, "999999999", "abc", "0" + gone.ID, " "} {
		e := &account.AuditEvent{UserID: id, Kind: "login_ok", At: now}
		wantNotFound(t, fmt.Sprintf("AddAuditEvent for user %q", id), s.AddAuditEvent(ctx, e))
	}
	// Nothing was stored: only the one event added now is deleted.
	mustAddAuditEvent(t, s, &account.AuditEvent{Kind: "anonymous", At: now})
	if n, err := s.DeleteAuditEventsBefore(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteAuditEventsBefore = %d, %v; want 1, nil", n, err)
	}
}

func testDeleteAuditEventsBefore(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u := newUser("historic")
	mustCreateUser(t, s, u)
	before := now.Add(-24 * time.Hour)
	for _, e := range []struct {
		kind, user string
		at         time.Time
	}{
		{"ancient", u.ID, before.Add(-365 * 24 * time.Hour)},
		{"old", u.ID, before.Add(-time.Millisecond)},
		{"old-anonymous", "", before.Add(-time.Hour)},
		{"boundary", u.ID, before},
		{"recent", u.ID, now},
		{"recent-anonymous", "", now},
	} {
		mustAddAuditEvent(t, s, &account.AuditEvent{UserID: e.user, Kind: e.kind, At: e.at})
	}
	n, err := s.DeleteAuditEventsBefore(ctx, before)
	if err != nil {
		t.Fatalf("DeleteAuditEventsBefore: %v", err)
	}
	if n != 3 {
		t.Errorf("DeleteAuditEventsBefore = %d, want 3 (ancient, old, old-anonymous)", n)
	}
	wantAuditKinds(t, s, u.ID, []string{"recent", "boundary"})
	if n, err := s.DeleteAuditEventsBefore(ctx, before); err != nil || n != 0 {
		t.Errorf("DeleteAuditEventsBefore again = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.DeleteAuditEventsBefore(ctx, now.Add(time.Millisecond)); err != nil || n != 3 {
		t.Errorf("DeleteAuditEventsBefore(now) = %d, %v; want 3 (boundary, recent, recent-anonymous)", n, err)
	}
	wantAuditKinds(t, s, u.ID, nil)
}

func testAuditDeleteUser(t *testing.T, s account.Backend) {
	ctx := t.Context()
	now := timeNow()
	u, other := newUser("leaver"), newUser("stayer")
	mustCreateUser(t, s, u)
	mustCreateUser(t, s, other)
	for i := range 3 {
		mustAddAuditEvent(t, s, &account.AuditEvent{UserID: u.ID, Kind: fmt.Sprintf("mine-%d", i), At: now})
	}
	mustAddAuditEvent(t, s, &account.AuditEvent{UserID: other.ID, Kind: "theirs", At: now})
	mustAddAuditEvent(t, s, &account.AuditEvent{Kind: "anonymous", At: now})
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantAuditKinds(t, s, u.ID, nil)
	wantAuditKinds(t, s, other.ID, []string{"theirs"})
	if n, err := s.DeleteAuditEventsBefore(ctx, now.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("DeleteAuditEventsBefore after DeleteUser = %d, %v; want 2 (theirs, anonymous)", n, err)
	}
}

func testAuditClientText(t *testing.T, s account.Backend) {
	now := timeNow()
	u := newUser("oddclient")
	mustCreateUser(t, s, u)
	want := &account.AuditEvent{
		UserID:    u.ID,
		Kind:      "login_failed",
		At:        now,
		IP:        "192.0.2.1\xff",
		UserAgent: oddUserAgent,
		Detail:    "typed \xe9mail\x80",
	}
	mustAddAuditEvent(t, s, want)
	got := userAuditEvents(t, s, u.ID, 10)
	if len(got) != 1 {
		t.Fatalf("UserAuditEvents = %q, want 1 event", auditKinds(got))
	}
	for _, f := range []struct{ name, got, want string }{
		{"IP", got[0].IP, want.IP},
		{"UserAgent", got[0].UserAgent, want.UserAgent},
		{"Detail", got[0].Detail, want.Detail},
	} {
		if !sameClientText(f.got, f.want) {
			t.Errorf("%s = %q, want %q (or with invalid bytes replaced)", f.name, f.got, f.want)
		}
	}
}
