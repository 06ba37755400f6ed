package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

// timeNow returns the current time at the precision every store keeps.
func timeNow() time.Time { return time.Now().Truncate(time.Millisecond) }

// sameTime compares at the millisecond precision stores must keep.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func liveSession(hash, userID string, now time.Time) latch.Session {
	return latch.Session{
		Hash:       hash,
		UserID:     userID,
		CreatedAt:  now.Add(-time.Minute),
		LastSeenAt: now.Add(-time.Second),
		ExpiresAt:  now.Add(time.Hour),
		IP:         "192.0.2.1",
		UserAgent:  "storetest",
		Data:       []byte("data of " + hash),
	}
}

func liveToken(selector, userID, series string, now time.Time) latch.RememberToken {
	return latch.RememberToken{
		Selector:      selector,
		ValidatorHash: "validator-hash-of-" + selector,
		UserID:        userID,
		Series:        series,
		CreatedAt:     now.Add(-time.Minute),
		LastUsedAt:    now.Add(-time.Second),
		ExpiresAt:     now.Add(24 * time.Hour),
		IP:            "2001:db8::1",
		UserAgent:     "storetest",
	}
}

func newUser(name string) *account.User {
	return &account.User{
		Username:     name,
		Email:        name + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaC1vZi0" + name,
		CreatedAt:    timeNow(),
	}
}

// differ collects the fields in which a stored value differs from the
// one expected, for one readable failure message.
type differ []string

func (d *differ) check(field string, ok bool, got, want any) {
	if !ok {
		*d = append(*d, fmt.Sprintf("%s = %#v, want %#v", field, got, want))
	}
}

func (d differ) String() string { return strings.Join(d, "; ") }

func diffSession(got, want latch.Session) string {
	var d differ
	d.check("Hash", got.Hash == want.Hash, got.Hash, want.Hash)
	d.check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	d.check("Series", got.Series == want.Series, got.Series, want.Series)
	d.check("Epoch", got.Epoch == want.Epoch, got.Epoch, want.Epoch)
	d.check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("LastSeenAt", sameTime(got.LastSeenAt, want.LastSeenAt), got.LastSeenAt, want.LastSeenAt)
	d.check("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	d.check("IP", got.IP == want.IP, got.IP, want.IP)
	d.check("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	d.check("Data", bytes.Equal(got.Data, want.Data), got.Data, want.Data)
	return d.String()
}

func diffToken(got, want latch.RememberToken) string {
	var d differ
	d.check("Selector", got.Selector == want.Selector, got.Selector, want.Selector)
	d.check("ValidatorHash", got.ValidatorHash == want.ValidatorHash, got.ValidatorHash, want.ValidatorHash)
	d.check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	d.check("Series", got.Series == want.Series, got.Series, want.Series)
	d.check("Epoch", got.Epoch == want.Epoch, got.Epoch, want.Epoch)
	d.check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("LastUsedAt", sameTime(got.LastUsedAt, want.LastUsedAt), got.LastUsedAt, want.LastUsedAt)
	d.check("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	d.check("RotatedAt", sameOptionalTime(got.RotatedAt, want.RotatedAt), got.RotatedAt, want.RotatedAt)
	d.check("IP", got.IP == want.IP, got.IP, want.IP)
	d.check("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	return d.String()
}

func diffUser(got, want account.User) string {
	var d differ
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("Username", got.Username == want.Username, got.Username, want.Username)
	d.check("Email", got.Email == want.Email, got.Email, want.Email)
	d.check("PasswordHash", got.PasswordHash == want.PasswordHash, got.PasswordHash, want.PasswordHash)
	d.check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("Disabled", got.Disabled == want.Disabled, got.Disabled, want.Disabled)
	d.check("EmailConfirmedAt", sameOptionalTime(got.EmailConfirmedAt, want.EmailConfirmedAt),
		got.EmailConfirmedAt, want.EmailConfirmedAt)
	d.check("TOTPSecret", got.TOTPSecret == want.TOTPSecret, got.TOTPSecret, want.TOTPSecret)
	d.check("Epoch", got.Epoch == want.Epoch, got.Epoch, want.Epoch)
	return d.String()
}

// oddUserAgent is a User-Agent that HTTP allows (obs-text, tab) but that
// is not UTF-8, as a broken or hostile client sends it.
const oddUserAgent = "Mozilla/5.0 \xff\xfe\tLatin-1 caf\xe9 \xc3( \x80"

// sameClientText compares text that came from a request header: a store
// keeps it verbatim or replaces each invalid UTF-8 sequence with U+FFFD.
func sameClientText(got, want string) bool {
	return got == want || got == strings.ToValidUTF8(want, "\uFFFD")
}

// sameOptionalTime compares times where the zero time means "none": a
// store must give back zero for zero, and the time otherwise.
func sameOptionalTime(a, b time.Time) bool {
	return a.IsZero() == b.IsZero() && sameTime(a, b)
}

func diffAPIToken(got, want account.APIToken) string {
	var d differ
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("Hash", got.Hash == want.Hash, got.Hash, want.Hash)
	d.check("Epoch", got.Epoch == want.Epoch, got.Epoch, want.Epoch)
	d.check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("LastUsedAt", sameOptionalTime(got.LastUsedAt, want.LastUsedAt), got.LastUsedAt, want.LastUsedAt)
	d.check("ExpiresAt", sameOptionalTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	return d.String()
}

func diffOneTimeToken(got, want account.OneTimeToken) string {
	var d differ
	d.check("Hash", got.Hash == want.Hash, got.Hash, want.Hash)
	d.check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	d.check("Purpose", got.Purpose == want.Purpose, got.Purpose, want.Purpose)
	d.check("Email", got.Email == want.Email, got.Email, want.Email)
	d.check("Epoch", got.Epoch == want.Epoch, got.Epoch, want.Epoch)
	d.check("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	return d.String()
}

func diffAuditEvent(got, want account.AuditEvent) string {
	var d differ
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	d.check("Kind", got.Kind == want.Kind, got.Kind, want.Kind)
	d.check("At", sameTime(got.At, want.At), got.At, want.At)
	d.check("IP", got.IP == want.IP, got.IP, want.IP)
	d.check("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	d.check("Detail", got.Detail == want.Detail, got.Detail, want.Detail)
	return d.String()
}

func mustCreateSession(t *testing.T, s latch.SessionStore, sess latch.Session) {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%q): %v", sess.Hash, err)
	}
}

// wantSession checks whether the session hash is found at now, and
// returns it.
func wantSession(t *testing.T, s latch.SessionStore, hash string, now time.Time, found bool) latch.Session {
	t.Helper()
	got, ok, err := s.FindSession(t.Context(), hash, now)
	if err != nil {
		t.Fatalf("FindSession(%q): %v", hash, err)
	}
	if ok != found {
		t.Fatalf("FindSession(%q) found = %v, want %v", hash, ok, found)
	}
	return got
}

func mustCreateRemember(t *testing.T, s latch.RememberStore, tok latch.RememberToken) {
	t.Helper()
	if err := s.CreateRemember(t.Context(), tok); err != nil {
		t.Fatalf("CreateRemember(%q): %v", tok.Selector, err)
	}
}

// wantRemember checks whether the token selector is found at now, and
// returns it.
func wantRemember(t *testing.T, s latch.RememberStore, selector string, now time.Time, found bool) latch.RememberToken {
	t.Helper()
	got, ok, err := s.FindRemember(t.Context(), selector, now)
	if err != nil {
		t.Fatalf("FindRemember(%q): %v", selector, err)
	}
	if ok != found {
		t.Fatalf("FindRemember(%q) found = %v, want %v", selector, ok, found)
	}
	return got
}

func mustCreateUser(t *testing.T, s account.Store, u *account.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q, %q): %v", u.Username, u.Email, err)
	}
	if u.ID == "" {
		t.Fatalf("CreateUser(%q) left ID empty", u.Username)
	}
}

// wantNotFound checks that err wraps account.ErrNotFound.
func wantNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, account.ErrNotFound) {
		t.Errorf("%s: error = %v, want one wrapping account.ErrNotFound", call, err)
	}
}

func liveAPIToken(hash, userID string, now time.Time) *account.APIToken {
	return &account.APIToken{
		UserID:    userID,
		Name:      "token " + hash,
		Hash:      hash,
		CreatedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

func mustCreateAPIToken(t *testing.T, s account.APITokenStore, tok *account.APIToken) {
	t.Helper()
	if err := s.CreateAPIToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateAPIToken(%q): %v", tok.Hash, err)
	}
	if tok.ID == "" {
		t.Fatalf("CreateAPIToken(%q) left ID empty", tok.Hash)
	}
}

// wantAPITokenFound looks the token hash up at now and fails the test
// unless it is found.
func wantAPITokenFound(t *testing.T, s account.APITokenStore, hash string, now time.Time) *account.APIToken {
	t.Helper()
	tok, err := s.APITokenByHash(t.Context(), hash, now)
	if err != nil {
		t.Fatalf("APITokenByHash(%q): %v", hash, err)
	}
	if tok == nil {
		t.Fatalf("APITokenByHash(%q) returned nil, nil", hash)
	}
	return tok
}

func liveOneTimeToken(hash, userID string, purpose account.Purpose, now time.Time) account.OneTimeToken {
	return account.OneTimeToken{
		Hash:      hash,
		UserID:    userID,
		Purpose:   purpose,
		Email:     "mailbox-of-" + userID + "@example.com",
		CreatedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour),
	}
}

func mustCreateOneTimeToken(t *testing.T, s account.OneTimeTokenStore, tok account.OneTimeToken) {
	t.Helper()
	if err := s.CreateOneTimeToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateOneTimeToken(%q): %v", tok.Hash, err)
	}
}

func mustReplaceRecoveryCodes(t *testing.T, s account.RecoveryCodeStore, userID string, hashes []string) {
	t.Helper()
	if err := s.ReplaceRecoveryCodes(t.Context(), userID, hashes); err != nil {
		t.Fatalf("ReplaceRecoveryCodes(%q, %q): %v", userID, hashes, err)
	}
}

func wantRecoveryCodesLeft(t *testing.T, s account.RecoveryCodeStore, userID string, want int) {
	t.Helper()
	hashes, err := s.RecoveryCodes(t.Context(), userID)
	n := len(hashes)
	if err != nil {
		t.Fatalf("RecoveryCodes(%q): %v", userID, err)
	}
	if n != want {
		t.Errorf("RecoveryCodes(%q): %d, want %d", userID, n, want)
	}
}

func mustAddAuditEvent(t *testing.T, s account.AuditStore, e *account.AuditEvent) {
	t.Helper()
	if err := s.AddAuditEvent(t.Context(), e); err != nil {
		t.Fatalf("AddAuditEvent(%q, %q): %v", e.UserID, e.Kind, err)
	}
	if e.ID == "" {
		t.Fatalf("AddAuditEvent(%q, %q) left ID empty", e.UserID, e.Kind)
	}
}

// wantAuditKinds checks the kinds of all of userID's events, newest first.
func wantAuditKinds(t *testing.T, s account.AuditStore, userID string, want []string) {
	t.Helper()
	list, err := s.UserAuditEvents(t.Context(), userID, 100)
	if err != nil {
		t.Fatalf("UserAuditEvents(%q): %v", userID, err)
	}
	if got := auditKinds(list); !slices.Equal(got, want) {
		t.Errorf("UserAuditEvents(%q) kinds = %q, want %q", userID, got, want)
	}
}

func sessionHashes(list []latch.Session) []string {
	var h []string
	for _, s := range list {
		h = append(h, s.Hash)
	}
	return h
}

func tokenSelectors(list []latch.RememberToken) []string {
	var h []string
	for _, t := range list {
		h = append(h, t.Selector)
	}
	return h
}

func userNames(list []account.User) []string {
	var h []string
	for _, u := range list {
		h = append(h, u.Username)
	}
	return h
}

func apiTokenNames(list []account.APIToken) []string {
	var h []string
	for _, t := range list {
		h = append(h, t.Name)
	}
	return h
}

func auditKinds(list []account.AuditEvent) []string {
	var h []string
	for _, e := range list {
		h = append(h, e.Kind)
	}
	return h
}

// raceOnce runs fn from n goroutines at once and returns how many of them
// reported success; any error fails the test.
func raceOnce(t *testing.T, n int, fn func() (bool, error)) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			ok, err := fn()
			if err != nil {
				t.Errorf("concurrent call: %v", err)
				return
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return wins
}
