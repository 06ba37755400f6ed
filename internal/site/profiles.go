package site

import (
	"context"
	"strings"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/vcache"
)

// profiles caches the users that /user/{username} pages show, by the
// store's change version (latch.ChangeTracker), as the login manager
// caches sessions: an entry is served only while nothing in the store has
// changed since it was read, so a renamed, disabled or deleted user is
// never shown from the cache. Only found users are kept: names that find
// nobody are the client's choice, and must not push real entries out.
type profiles struct {
	tracker latch.ChangeTracker // nil: the store cannot tell; no caching
	cache   *vcache.Cache[*account.User]
}

func newProfiles(store account.Store) *profiles {
	p := &profiles{}
	if t, ok := store.(latch.ChangeTracker); ok {
		p.tracker = t
		p.cache = vcache.New[*account.User](10000, 4<<20)
	}
	return p
}

// lookup returns the user named name (case-insensitively), from the
// cache or through load.
func (p *profiles) lookup(ctx context.Context, name string, load func(context.Context, string) (*account.User, error)) (*account.User, error) {
	if p.tracker == nil {
		return load(ctx, name)
	}
	key := strings.ToLower(name)
	version, sure := p.tracker.Changes()
	if sure {
		if u, ok := p.cache.Get(key, version); ok {
			return u, nil
		}
	}
	u, err := load(ctx, name)
	if err != nil || !sure {
		return u, err
	}
	// Only what a profile shows: the cache holds no password hash, email
	// or second-factor secret.
	shown := &account.User{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt}
	p.cache.Put(key, version, shown, int64(len(key)+len(u.ID)+len(u.Username)+128))
	return shown, nil
}
