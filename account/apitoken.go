package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchgo/latch"
)

// APITokenPrefix starts every API token, so a leaked token is easy to
// recognise (secret scanners, logs) and to tell from other secrets.
const APITokenPrefix = "latch_"

const apiTokenBytes = 32

var apiTokenLen = len(APITokenPrefix) + len(latch.NewToken(apiTokenBytes))

// MaxAPITokens bounds the tokens one user may hold.
const MaxAPITokens = 50

// ErrTooManyTokens: the user has MaxAPITokens already.
var ErrTooManyTokens = errors.New("account: too many API tokens")

// APITokens creates, lists, revokes and checks API tokens.
type APITokens struct {
	tokens APITokenStore
	users  Store
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// NewAPITokens returns an APITokens over the stores.
func NewAPITokens(tokens APITokenStore, users Store) *APITokens {
	return &APITokens{tokens: tokens, users: users, Now: time.Now}
}

// ValidateTokenName returns "" if name is a usable token name, else a
// message for the user.
func ValidateTokenName(name string) string {
	n := utf8.RuneCountInString(name)
	if strings.TrimSpace(name) == "" || n > 64 {
		return "Give the token a name of 1 to 64 characters."
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return "Use only printable characters."
		}
	}
	return ""
}

// Create makes a token for u and returns its secret, to be shown once:
// only its hash is kept. ttl 0 makes a token that does not expire.
func (a *APITokens) Create(ctx context.Context, u *User, name string, ttl time.Duration) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if msg := ValidateTokenName(name); msg != "" {
		return "", nil, &ValidationError{Fields: map[string]string{"name": msg}}
	}
	existing, err := a.tokens.UserAPITokens(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("list API tokens: %w", err)
	}
	if len(existing) >= MaxAPITokens {
		return "", nil, ErrTooManyTokens
	}
	secret := APITokenPrefix + latch.NewToken(apiTokenBytes)
	now := a.Now().UTC()
	t := &APIToken{UserID: u.ID, Name: name, Hash: latch.HashToken(secret), Epoch: u.Epoch, CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := a.tokens.CreateAPIToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("create API token: %w", err)
	}
	return secret, t, nil
}

// List returns u's tokens, newest first.
func (a *APITokens) List(ctx context.Context, userID string) ([]APIToken, error) {
	return a.tokens.UserAPITokens(ctx, userID)
}

// Revoke deletes one of userID's tokens (ErrNotFound if it is not theirs).
func (a *APITokens) Revoke(ctx context.Context, userID, id string) error {
	return a.tokens.DeleteAPIToken(ctx, userID, id)
}

// RevokeAll deletes every token of a user.
func (a *APITokens) RevokeAll(ctx context.Context, userID string) (int, error) {
	return a.tokens.DeleteUserAPITokens(ctx, userID)
}

// BearerToken returns the API token of an "Authorization: Bearer" header,
// if the header holds something shaped like one. Tokens are never read
// from the URL (they would end up in logs and Referer headers).
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return ParseAPIToken(strings.TrimSpace(tok))
}

// ParseAPIToken reports whether s has the exact shape of an API token.
func ParseAPIToken(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, APITokenPrefix)
	if !ok || len(s) != apiTokenLen {
		return "", false
	}
	if _, ok := latch.ParseSessionToken(rest); !ok {
		return "", false
	}
	return s, true
}

// Authenticate returns the active user a token belongs to. An unknown,
// expired or malformed token, one of a disabled user, and one made under
// an earlier credential epoch of its owner (which is then deleted) are
// errors wrapping ErrNotFound. LastUsedAt is updated at most once a minute, so
// busy API clients do not turn every request into a write.
func (a *APITokens) Authenticate(ctx context.Context, secret string) (*User, error) {
	if _, ok := ParseAPIToken(secret); !ok {
		return nil, fmt.Errorf("malformed API token: %w", ErrNotFound)
	}
	now := a.Now()
	t, err := a.tokens.APITokenByHash(ctx, latch.HashToken(secret), now)
	if err != nil {
		return nil, fmt.Errorf("find API token: %w", err)
	}
	u, err := a.users.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("load owner of API token %s: %w", t.ID, err)
	}
	if u.Disabled {
		return nil, fmt.Errorf("API token of disabled user %s: %w", u.ID, ErrNotFound)
	}
	if t.Epoch != u.Epoch {
		// Made before its owner's credentials were revoked, by a request
		// that raced with the revocation's delete.
		if err := a.tokens.DeleteAPIToken(ctx, u.ID, t.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("delete revoked API token: %w", err)
		}
		return nil, fmt.Errorf("API token of an earlier credential epoch of user %s: %w", u.ID, ErrNotFound)
	}
	if now.Sub(t.LastUsedAt) > time.Minute {
		if err := a.tokens.TouchAPIToken(ctx, t.ID, now.UTC()); err != nil {
			return nil, fmt.Errorf("touch API token: %w", err)
		}
	}
	return u, nil
}
