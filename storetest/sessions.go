package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch"
)

// Sessions checks a [latch.SessionStore]. newStore must return a fresh,
// empty store on each call.
//
// Beyond the interface's doc comments, the suite holds stores to these
// readings of them: ExpiresAt equal to now is expired; creating a session
// that is already expired succeeds and it is never found; UpdateSession
// never creates a session, not even when it races with DeleteSession or
// DeleteUserSessions; user ids and
// series are compared exactly ("7" is not "77"); DeleteUserSessions with
// an empty userID and DeleteSeriesSessions with an empty series delete
// nothing, since anonymous sessions belong to no user and sessions without
// a series are in none; a store keeps its own copy of Data. IP and
// UserAgent come from request headers, which may hold bytes that are not
// UTF-8: a store accepts them, and keeps them verbatim or with each
// invalid sequence replaced by U+FFFD (as strings.ToValidUTF8 does), so
// that an odd client cannot make its own login fail.
func Sessions(t *testing.T, newStore func(t *testing.T) latch.SessionStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, latch.SessionStore)
	}{
		{"RoundTrip", testSessionRoundTrip},
		{"Anonymous", testSessionAnonymous},
		{"ClientText", testSessionClientText},
		{"LargeData", testSessionLargeData},
		{"DataNotAliased", testSessionDataNotAliased},
		{"Missing", testSessionMissing},
		{"CreateExisting", testSessionCreateExisting},
		{"Update", testSessionUpdate},
		{"UpdateMissing", testSessionUpdateMissing},
		{"UpdateRacesDelete", testSessionUpdateRacesDelete},
		{"Expiry", testSessionExpiry},
		{"Touch", testSessionTouch},
		{"TouchMissing", testSessionTouchMissing},
		{"Delete", testSessionDelete},
		{"DeleteUserSessions", testDeleteUserSessions},
		{"DeleteSeriesSessions", testDeleteSeriesSessions},
		{"UserSessions", testUserSessions},
		{"DeleteExpiredSessions", testDeleteExpiredSessions},
		{"Concurrent", testSessionConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testSessionRoundTrip(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	want := latch.Session{
		Hash:       "hash-round-trip",
		UserID:     "42",
		Series:     "series-1",
		Epoch:      7,
		CreatedAt:  now.Add(-2 * time.Hour),
		LastSeenAt: now.Add(-time.Minute),
		ExpiresAt:  now.Add(time.Hour),
		IP:         "203.0.113.7",
		UserAgent:  `Mozilla/5.0 (X11; "quoted"; 'single'; ünïcödé ☃)`,
		Data:       []byte{0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, '\'', '"', '\\', 0},
	}
	mustCreateSession(t, s, want)
	got := wantSession(t, s, want.Hash, now, true)
	if d := diffSession(got, want); d != "" {
		t.Errorf("FindSession after CreateSession: %s", d)
	}
}

func testSessionAnonymous(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	want := latch.Session{
		Hash:       "hash-anonymous",
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(time.Hour),
	}
	mustCreateSession(t, s, want)
	got := wantSession(t, s, want.Hash, now, true)
	if d := diffSession(got, want); d != "" {
		t.Errorf("FindSession of an anonymous session with no data: %s", d)
	}
}

func testSessionClientText(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	want := liveSession("hash-odd-client", "1", now)
	want.IP, want.UserAgent = "192.0.2.1\xff", oddUserAgent
	mustCreateSession(t, s, want)
	got := wantSession(t, s, want.Hash, now, true)
	if !sameClientText(got.UserAgent, want.UserAgent) || !sameClientText(got.IP, want.IP) {
		t.Errorf("IP, UserAgent = %q, %q; want %q, %q (or with invalid bytes replaced)", got.IP, got.UserAgent, want.IP, want.UserAgent)
	}
	got.IP, got.UserAgent = want.IP, want.UserAgent
	if d := diffSession(got, want); d != "" {
		t.Errorf("FindSession: %s", d)
	}
}

func testSessionLargeData(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	want := liveSession("hash-large", "1", now)
	want.Data = make([]byte, 64<<10)
	for i := range want.Data {
		want.Data[i] = byte(i * 7)
	}
	mustCreateSession(t, s, want)
	got := wantSession(t, s, want.Hash, now, true)
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("FindSession returned %d bytes of Data that differ from the %d saved", len(got.Data), len(want.Data))
	}
}

func testSessionDataNotAliased(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	sess := liveSession("hash-alias", "1", now)
	sess.Data = []byte("original")
	mustCreateSession(t, s, sess)
	sess.Data[0] = 'X' // the caller reuses its buffer
	got := wantSession(t, s, sess.Hash, now, true)
	if string(got.Data) != "original" {
		t.Fatalf("Data = %q after the caller changed its slice, want %q", got.Data, "original")
	}
	got.Data[0] = 'Y' // the caller changes what it was given
	got = wantSession(t, s, sess.Hash, now, true)
	if string(got.Data) != "original" {
		t.Errorf("Data = %q after the caller changed a returned slice, want %q", got.Data, "original")
	}
}

func testSessionMissing(t *testing.T, s latch.SessionStore) {
	wantSession(t, s, "no-such-hash", timeNow(), false)
	wantSession(t, s, "", timeNow(), false)
}

// testSessionCreateExisting: a second CreateSession of a hash in use is
// an error and leaves the session as it was (a session never changes
// user).
func testSessionCreateExisting(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	first := liveSession("hash-twice", "1", now)
	mustCreateSession(t, s, first)
	if err := s.CreateSession(t.Context(), liveSession("hash-twice", "2", now)); err == nil {
		t.Fatal("CreateSession of a hash in use succeeded")
	}
	if d := diffSession(wantSession(t, s, first.Hash, now, true), first); d != "" {
		t.Errorf("FindSession after a refused second CreateSession: %s", d)
	}
}

func testSessionUpdate(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	first := liveSession("hash-update", "1", now)
	first.Series, first.Epoch = "series-before", 3
	mustCreateSession(t, s, first)
	update := latch.Session{
		Hash:       first.Hash,
		UserID:     "2",                   // never changes
		Epoch:      9,                     // never changes
		CreatedAt:  now.Add(-time.Minute), // never changes
		Series:     "",
		LastSeenAt: now,
		ExpiresAt:  now.Add(2 * time.Hour),
		IP:         "198.51.100.2",
		UserAgent:  "updated",
		Data:       []byte("updated"),
	}
	found, err := s.UpdateSession(ctx, update)
	if err != nil || !found {
		t.Fatalf("UpdateSession = %v, %v; want true, nil", found, err)
	}
	want := update
	want.UserID, want.Epoch, want.CreatedAt = first.UserID, first.Epoch, first.CreatedAt
	got := wantSession(t, s, first.Hash, now, true)
	if d := diffSession(got, want); d != "" {
		t.Errorf("FindSession after UpdateSession: %s", d)
	}
	if list, err := s.UserSessions(ctx, "1", now); err != nil {
		t.Errorf("UserSessions: %v", err)
	} else if !slices.Equal(sessionHashes(list), []string{first.Hash}) {
		t.Errorf("UserSessions of the session's user = %q, want [%q]", sessionHashes(list), first.Hash)
	}
	if list, err := s.UserSessions(ctx, "2", now); err != nil {
		t.Errorf("UserSessions: %v", err)
	} else if len(list) != 0 {
		t.Errorf("UserSessions of the user an update named = %q, want none", sessionHashes(list))
	}
	// The session left its former series.
	if err := s.DeleteSeriesSessions(ctx, "series-before"); err != nil {
		t.Fatalf("DeleteSeriesSessions: %v", err)
	}
	wantSession(t, s, first.Hash, now, true)
}

func testSessionUpdateMissing(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	sess := liveSession("hash-update-missing", "1", now)
	found, err := s.UpdateSession(ctx, sess)
	if err != nil || found {
		t.Fatalf("UpdateSession of a session never created = %v, %v; want false, nil", found, err)
	}
	wantSession(t, s, sess.Hash, now, false)

	mustCreateSession(t, s, sess)
	if err := s.DeleteSession(ctx, sess.Hash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	found, err = s.UpdateSession(ctx, sess)
	if err != nil || found {
		t.Fatalf("UpdateSession of a deleted session = %v, %v; want false, nil", found, err)
	}
	wantSession(t, s, sess.Hash, now, false)
	if list, err := s.UserSessions(ctx, "1", now); err != nil || len(list) != 0 {
		t.Errorf("UserSessions after updating a deleted session = %q, %v; want none", sessionHashes(list), err)
	}
}

// testSessionUpdateRacesDelete runs updates of a user's sessions while the
// user's sessions are deleted: whatever the interleaving, none is found
// afterwards. An insert-or-update would bring some back.
func testSessionUpdateRacesDelete(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	const sessions, rounds = 4, 25
	for i := range sessions {
		mustCreateSession(t, s, liveSession(fmt.Sprintf("race-%d", i), "5", now))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			<-start
			sess := liveSession(fmt.Sprintf("race-%d", i), "5", now)
			for j := range rounds {
				sess.Data = []byte(strconv.Itoa(j))
				if _, err := s.UpdateSession(ctx, sess); err != nil {
					t.Errorf("UpdateSession: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		if _, err := s.DeleteUserSessions(ctx, "5", ""); err != nil {
			t.Errorf("DeleteUserSessions: %v", err)
		}
	})
	close(start)
	wg.Wait()
	for i := range sessions {
		wantSession(t, s, fmt.Sprintf("race-%d", i), now, false)
	}
}

func testSessionExpiry(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	sess := liveSession("hash-expiry", "1", now)
	exp := sess.ExpiresAt
	mustCreateSession(t, s, sess)
	wantSession(t, s, sess.Hash, exp.Add(-time.Millisecond), true)
	wantSession(t, s, sess.Hash, exp, false)
	wantSession(t, s, sess.Hash, exp.Add(time.Millisecond), false)

	past := liveSession("hash-expired-when-created", "1", now)
	past.ExpiresAt = now.Add(-time.Second)
	mustCreateSession(t, s, past)
	wantSession(t, s, past.Hash, now, false)
}

func testSessionTouch(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	orig := liveSession("hash-touch", "1", now)
	orig.Series = "series-touch"
	orig.ExpiresAt = now.Add(10 * time.Minute)
	mustCreateSession(t, s, orig)
	later := now.Add(30 * time.Minute)
	wantSession(t, s, orig.Hash, later, false)

	seen, expires := now.Add(time.Minute), now.Add(time.Hour)
	if err := s.TouchSession(t.Context(), orig.Hash, seen, expires); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	want := orig
	want.LastSeenAt, want.ExpiresAt = seen, expires
	got := wantSession(t, s, orig.Hash, later, true)
	if d := diffSession(got, want); d != "" {
		t.Errorf("FindSession after TouchSession: %s", d)
	}
}

func testSessionTouchMissing(t *testing.T, s latch.SessionStore) {
	now := timeNow()
	if err := s.TouchSession(t.Context(), "no-such-hash", now, now.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession of a missing session: %v, want nil", err)
	}
	wantSession(t, s, "no-such-hash", now, false)
}

func testSessionDelete(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	mustCreateSession(t, s, liveSession("hash-delete", "1", now))
	mustCreateSession(t, s, liveSession("hash-keep", "1", now))
	if err := s.DeleteSession(ctx, "hash-delete"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantSession(t, s, "hash-delete", now, false)
	wantSession(t, s, "hash-keep", now, true)
	if err := s.DeleteSession(ctx, "hash-delete"); err != nil {
		t.Errorf("DeleteSession of a deleted session: %v, want nil", err)
	}
	if err := s.DeleteSession(ctx, "no-such-hash"); err != nil {
		t.Errorf("DeleteSession of a missing session: %v, want nil", err)
	}
}

func testDeleteUserSessions(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	for _, h := range []string{"a1", "a2", "a3"} {
		mustCreateSession(t, s, liveSession(h, "7", now))
	}
	mustCreateSession(t, s, liveSession("b1", "77", now))
	mustCreateSession(t, s, liveSession("anon1", "", now))
	mustCreateSession(t, s, liveSession("anon2", "", now))

	steps := []struct {
		userID, except string
		want           int
		gone, kept     []string
	}{
		{"7", "a2", 2, []string{"a1", "a3"}, []string{"a2", "b1", "anon1", "anon2"}},
		{"7", "", 1, []string{"a2"}, []string{"b1", "anon1", "anon2"}},
		{"7", "", 0, nil, []string{"b1", "anon1", "anon2"}},
		{"", "", 0, nil, []string{"b1", "anon1", "anon2"}},
		{"", "anon1", 0, nil, []string{"b1", "anon1", "anon2"}},
		{"nobody", "", 0, nil, []string{"b1", "anon1", "anon2"}},
		{"77", "anon1", 1, []string{"b1"}, []string{"anon1", "anon2"}},
	}
	for _, st := range steps {
		n, err := s.DeleteUserSessions(ctx, st.userID, st.except)
		if err != nil {
			t.Fatalf("DeleteUserSessions(%q, %q): %v", st.userID, st.except, err)
		}
		if n != st.want {
			t.Errorf("DeleteUserSessions(%q, %q) = %d, want %d", st.userID, st.except, n, st.want)
		}
		for _, h := range st.gone {
			wantSession(t, s, h, now, false)
		}
		for _, h := range st.kept {
			wantSession(t, s, h, now, true)
		}
	}
}

func testDeleteSeriesSessions(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	for _, x := range []struct{ hash, user, series string }{
		{"s1-a", "1", "S1"},
		{"s1-b", "2", "S1"},
		{"s11", "1", "S11"},
		{"no-series", "1", ""},
		{"anon", "", ""},
	} {
		sess := liveSession(x.hash, x.user, now)
		sess.Series = x.series
		mustCreateSession(t, s, sess)
	}
	if err := s.DeleteSeriesSessions(ctx, "S1"); err != nil {
		t.Fatalf("DeleteSeriesSessions: %v", err)
	}
	wantSession(t, s, "s1-a", now, false)
	wantSession(t, s, "s1-b", now, false)
	for _, h := range []string{"s11", "no-series", "anon"} {
		wantSession(t, s, h, now, true)
	}
	if err := s.DeleteSeriesSessions(ctx, ""); err != nil {
		t.Fatalf(`DeleteSeriesSessions(""): %v`, err)
	}
	for _, h := range []string{"s11", "no-series", "anon"} {
		wantSession(t, s, h, now, true)
	}
	if err := s.DeleteSeriesSessions(ctx, "no-such-series"); err != nil {
		t.Errorf("DeleteSeriesSessions of a missing series: %v, want nil", err)
	}
}

func testUserSessions(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	mk := func(hash, user string, age time.Duration) latch.Session {
		sess := liveSession(hash, user, now)
		sess.CreatedAt = now.Add(-age)
		sess.LastSeenAt = now.Add(-age / 2)
		return sess
	}
	old, mid, newest := mk("old", "7", 3*time.Hour), mk("mid", "7", 2*time.Hour), mk("new", "7", time.Hour)
	expired := mk("expired", "7", 30*time.Minute)
	expired.ExpiresAt = now
	for _, sess := range []latch.Session{old, newest, expired, mid, mk("other", "77", time.Minute), mk("anon", "", time.Minute)} {
		mustCreateSession(t, s, sess)
	}

	list, err := s.UserSessions(ctx, "7", now)
	if err != nil {
		t.Fatalf("UserSessions: %v", err)
	}
	want := []latch.Session{newest, mid, old}
	if !slices.Equal(sessionHashes(list), sessionHashes(want)) {
		t.Fatalf("UserSessions = %q, want %q (unexpired, newest first)", sessionHashes(list), sessionHashes(want))
	}
	for i := range want {
		if d := diffSession(list[i], want[i]); d != "" {
			t.Errorf("UserSessions[%d]: %s", i, d)
		}
	}

	for _, c := range []struct {
		user string
		at   time.Time
	}{
		{"nobody", now},
		{"7", now.Add(2 * time.Hour)}, // all expired by then
	} {
		list, err := s.UserSessions(ctx, c.user, c.at)
		if err != nil {
			t.Fatalf("UserSessions(%q): %v", c.user, err)
		}
		if len(list) != 0 {
			t.Errorf("UserSessions(%q, %v) = %q, want none", c.user, c.at, sessionHashes(list))
		}
	}
}

func testDeleteExpiredSessions(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	expiresNow := liveSession("expires-now", "1", now)
	expiresNow.ExpiresAt = now
	expiredLongAgo := liveSession("expired-long-ago", "", now)
	expiredLongAgo.CreatedAt = now.Add(-3 * time.Hour)
	expiredLongAgo.LastSeenAt = now.Add(-2 * time.Hour)
	expiredLongAgo.ExpiresAt = now.Add(-time.Hour)
	live := liveSession("live", "1", now)
	soon := liveSession("live-soon", "", now)
	soon.ExpiresAt = now.Add(time.Minute)
	for _, sess := range []latch.Session{expiresNow, expiredLongAgo, live, soon} {
		mustCreateSession(t, s, sess)
	}

	n, err := s.DeleteExpiredSessions(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	// Asked about a moment when they were still valid, a store that kept
	// the expired sessions would return them.
	for _, sess := range []latch.Session{expiresNow, expiredLongAgo} {
		wantSession(t, s, sess.Hash, sess.ExpiresAt.Add(-time.Minute), false)
	}
	switch n {
	case 2:
	case 0:
		t.Logf("DeleteExpiredSessions = 0: the store expires sessions by itself")
	default:
		t.Errorf("DeleteExpiredSessions = %d, want 2 (or 0 from a store that expires sessions by itself)", n)
	}
	wantSession(t, s, live.Hash, now, true)
	wantSession(t, s, soon.Hash, now, true)

	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredSessions again = %d, %v; want 0, nil", n, err)
	}
}

func testSessionConcurrent(t *testing.T, s latch.SessionStore) {
	ctx := t.Context()
	now := timeNow()
	const workers = 20
	mustCreateSession(t, s, liveSession("concurrent-shared", "shared", now))
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			own := liveSession(fmt.Sprintf("concurrent-%d", i), strconv.Itoa(i%3), now)
			if err := s.CreateSession(ctx, own); err != nil {
				t.Errorf("CreateSession(%q): %v", own.Hash, err)
				return
			}
			got, ok, err := s.FindSession(ctx, own.Hash, now)
			if err != nil || !ok {
				t.Errorf("FindSession(%q) = found %v, %v; want found", own.Hash, ok, err)
				return
			}
			if d := diffSession(got, own); d != "" {
				t.Errorf("FindSession(%q): %s", own.Hash, d)
			}

			// Everyone also writes and reads one shared session.
			shared := liveSession("concurrent-shared", "shared", now)
			shared.Data = []byte("written by " + strconv.Itoa(i))
			if found, err := s.UpdateSession(ctx, shared); err != nil || !found {
				t.Errorf("UpdateSession(shared) = %v, %v; want true, nil", found, err)
				return
			}
			if err := s.TouchSession(ctx, shared.Hash, now, now.Add(time.Hour)); err != nil {
				t.Errorf("TouchSession(shared): %v", err)
			}
			got, ok, err = s.FindSession(ctx, shared.Hash, now)
			if err != nil || !ok {
				t.Errorf("FindSession(shared) = found %v, %v; want found", ok, err)
				return
			}
			if !bytes.HasPrefix(got.Data, []byte("written by ")) {
				t.Errorf("FindSession(shared).Data = %q, want one of the writes", got.Data)
			}
		})
	}
	wg.Wait()
	for i := range workers {
		wantSession(t, s, fmt.Sprintf("concurrent-%d", i), now, true)
	}
}
