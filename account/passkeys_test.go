package account_test

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchgo/latch/account"
	"github.com/latchgo/latch/internal/webauthntest"
	"github.com/latchgo/latch/throttle"
)

const (
	testRPID   = "shop.example"
	testOrigin = "https://shop.example"
)

// softKey wraps webauthntest.Key for these tests.
type softKey struct{ *webauthntest.Key }

func newSoftKey(t testing.TB) *softKey {
	return &softKey{webauthntest.NewKey(testRPID, testOrigin)}
}

func (k *softKey) register(t testing.TB, options []byte) []byte {
	t.Helper()
	b, err := k.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (k *softKey) sign(t testing.TB, options []byte) []byte {
	t.Helper()
	b, err := k.Sign(options)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newPasskeys(t testing.TB, e *env) *account.Passkeys {
	t.Helper()
	p, err := account.NewPasskeys(account.PasskeyConfig{RPID: testRPID, RPName: "Shop", Origins: []string{testOrigin}}, e.store, e.store, e.store)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// registered registers a new soft passkey for u.
func registered(t *testing.T, p *account.Passkeys, u *account.User, name string) (*softKey, *account.Passkey) {
	t.Helper()
	k := newSoftKey(t)
	opts, c, err := p.BeginRegistration(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := p.FinishRegistration(t.Context(), u, c, k.register(t, opts), name)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return k, key
}

// loginWith runs a whole login ceremony with k, for u's second step or,
// with u nil, without a username.
func loginWith(t *testing.T, p *account.Passkeys, u *account.User, k *softKey) (*account.User, *account.Passkey, error) {
	t.Helper()
	opts, c, err := p.BeginLogin(t.Context(), u, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return p.FinishLogin(t.Context(), c, k.sign(t, opts))
}

func TestPasskeyRegisterAndLogin(t *testing.T) {
	e := newEnv(t)
	p := newPasskeys(t, e)
	ann := e.user(t, "ann")
	k, key := registered(t, p, ann, "  Ann's phone  ")
	if key.Name != "Ann's phone" || key.UserID != ann.ID || key.Epoch != ann.Epoch {
		t.Errorf("registered %+v", key)
	}
	for _, second := range []*account.User{nil, ann} {
		u, used, err := loginWith(t, p, second, k)
		if err != nil {
			t.Fatalf("login (second step: %v): %v", second != nil, err)
		}
		if u.ID != ann.ID || used.ID != key.ID || used.LastUsedAt.IsZero() {
			t.Errorf("login returned user %s, passkey %+v", u.ID, used)
		}
	}
	list, err := p.List(t.Context(), ann)
	if err != nil || len(list) != 1 || list[0].LastUsedAt.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// The same authenticator cannot register the same passkey twice.
	opts, c, err := p.BeginRegistration(t.Context(), ann)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.FinishRegistration(t.Context(), ann, c, k.register(t, opts), "again"); !errors.Is(err, account.ErrPasskeyExists) {
		t.Errorf("registering the same passkey again: %v, want ErrPasskeyExists", err)
	}
	if err := p.Rename(t.Context(), ann, key.ID, "Work phone"); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(t.Context(), ann, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loginWith(t, p, nil, k); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("a removed passkey: %v, want ErrPasskeyRefused", err)
	}
}

// TestPasskeyRefusals: what an attacker would try is refused.
func TestPasskeyRefusals(t *testing.T) {
	e := newEnv(t)
	p := newPasskeys(t, e)
	ann, bob := e.user(t, "ann"), e.user(t, "bob")
	annKey, _ := registered(t, p, ann, "ann")
	bobKey, _ := registered(t, p, bob, "bob")

	t.Run("another site's origin", func(t *testing.T) {
		annKey.Origin = "https://shop.example.evil.test"
		defer func() { annKey.Origin = testOrigin }()
		if _, _, err := loginWith(t, p, nil, annKey); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("%v, want ErrPasskeyRefused", err)
		}
	})
	t.Run("another user's passkey at the second step", func(t *testing.T) {
		if _, _, err := loginWith(t, p, ann, bobKey); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("%v, want ErrPasskeyRefused", err)
		}
	})
	t.Run("a replayed answer", func(t *testing.T) {
		opts, c, err := p.BeginLogin(t.Context(), nil, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		answer := annKey.sign(t, opts)
		if _, _, err := p.FinishLogin(t.Context(), c, answer); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.FinishLogin(t.Context(), c, answer); !errors.Is(err, account.ErrPasskeyCloned) {
			t.Errorf("the same answer again: %v, want ErrPasskeyCloned", err)
		}
	})
	t.Run("a registration ceremony used for a login", func(t *testing.T) {
		opts, c, err := p.BeginRegistration(t.Context(), ann)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.FinishLogin(t.Context(), c, annKey.sign(t, opts)); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("%v, want ErrPasskeyRefused", err)
		}
	})
	t.Run("a registration begun for another user", func(t *testing.T) {
		opts, c, err := p.BeginRegistration(t.Context(), ann)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.FinishRegistration(t.Context(), bob, c, newSoftKey(t).register(t, opts), "x"); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("%v, want ErrPasskeyRefused", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		opts, c, err := p.BeginLogin(t.Context(), nil, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		_ = opts
		for _, answer := range []string{"", "{}", "null", `{"id":"x","rawId":"x","type":"public-key","response":{}}`} {
			if _, _, err := p.FinishLogin(t.Context(), c, []byte(answer)); !errors.Is(err, account.ErrPasskeyRefused) {
				t.Errorf("FinishLogin(%q): %v, want ErrPasskeyRefused", answer, err)
			}
		}
		if _, _, err := p.FinishLogin(t.Context(), account.Ceremony("not json"), annKey.sign(t, opts)); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("a broken ceremony: %v", err)
		}
	})
	t.Run("an IP address as the site", func(t *testing.T) {
		if _, err := account.NewPasskeys(account.PasskeyConfig{RPID: "127.0.0.1", Origins: []string{"http://127.0.0.1:8080"}}, e.store, e.store, nil); err == nil {
			t.Error("NewPasskeys accepted an IP address")
		}
	})
}

// TestPasskeyRevocation: revoking a user's credentials ends their
// passkeys, those registered by a ceremony in flight, and a second step
// begun before it; a disabled user's passkey logs nobody in.
func TestPasskeyRevocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := newPasskeys(t, e)
	ann := e.user(t, "ann")
	k, _ := registered(t, p, ann, "phone")

	// A registration in flight when the password changes.
	opts, c, err := p.BeginRegistration(ctx, ann)
	if err != nil {
		t.Fatal(err)
	}
	secondOpts, secondC, err := p.BeginLogin(ctx, ann, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	stale := ann.Clone()
	if err := e.svc.Revoke(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loginWith(t, p, nil, k); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("a passkey after the revocation: %v, want ErrPasskeyRefused", err)
	}
	late := newSoftKey(t)
	if _, err := p.FinishRegistration(ctx, stale, c, late.register(t, opts), "late"); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("a registration begun before the revocation (with the user as it was then): %v", err)
	}
	if _, err := p.FinishRegistration(ctx, ann, c, late.register(t, opts), "late"); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("a registration begun before the revocation: %v", err)
	}
	// A second step begun before it, answered with a passkey made after.
	k2, key2 := registered(t, p, ann, "new phone")
	if _, _, err := p.FinishLogin(ctx, secondC, k2.sign(t, secondOpts)); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("a second step begun before the revocation: %v", err)
	}
	// A passkey stored under the old epoch after the revocation's delete
	// (the race the epoch closes) is refused and not listed.
	ghost := newSoftKey(t)
	ghost.User = []byte(ann.ID)
	gopts, gc, err := p.BeginRegistration(ctx, ann)
	if err != nil {
		t.Fatal(err)
	}
	gkey, err := p.FinishRegistration(ctx, ann, gc, ghost.register(t, gopts), "ghost")
	if err != nil {
		t.Fatal(err)
	}
	gkey.Epoch, gkey.ID = stale.Epoch, ""
	gkey.CredentialID = append([]byte("old-"), gkey.CredentialID...)
	if err := e.store.AddPasskey(ctx, gkey); err != nil {
		t.Fatal(err)
	}
	list, err := p.List(ctx, ann)
	if err != nil || len(list) != 2 {
		t.Errorf("List after the revocation = %d passkeys, %v; want the 2 made after it", len(list), err)
	}
	if _, err := e.store.PasskeyByCredentialID(ctx, gkey.CredentialID); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the stale passkey is still stored: %v", err)
	}

	// Disabled: refused, and so after re-enabling (the epoch moved on).
	if err := e.svc.SetDisabled(ctx, ann, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loginWith(t, p, nil, k2); err == nil {
		t.Error("a disabled user logged in with a passkey")
	}
	if err := e.svc.SetDisabled(ctx, ann, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PasskeyByCredentialID(ctx, key2.CredentialID); err == nil {
		if _, _, err := loginWith(t, p, nil, k2); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Errorf("a passkey from before the account was disabled: %v", err)
		}
	}
}

func TestPasskeyCeremonyExpires(t *testing.T) {
	e := newEnv(t)
	p, err := account.NewPasskeys(account.PasskeyConfig{RPID: testRPID, Origins: []string{testOrigin}, Timeout: time.Millisecond}, e.store, e.store, e.store)
	if err != nil {
		t.Fatal(err)
	}
	ann := e.user(t, "ann")
	opts, c, err := p.BeginRegistration(t.Context(), ann)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := p.FinishRegistration(t.Context(), ann, c, newSoftKey(t).register(t, opts), "slow"); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("an expired ceremony: %v, want ErrPasskeyRefused", err)
	}
}

// TestPasskeyLoginLimit: one client cannot make the server keep ceremonies
// without end; another client is not held up.
func TestPasskeyLoginLimit(t *testing.T) {
	e := newEnv(t)
	p, err := account.NewPasskeys(account.PasskeyConfig{RPID: testRPID, Origins: []string{testOrigin},
		LoginRule: throttle.Rule{Window: time.Hour, Free: 3, Base: time.Minute, Max: time.Minute}}, e.store, e.store, e.store)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		_, _, err := p.BeginLogin(t.Context(), nil, "2001:db8::"+strconv.Itoa(i+1))
		var limited *account.LimitError
		if i < 3 && err != nil || i == 3 && !errors.As(err, &limited) {
			t.Fatalf("login %d from one /64: %v", i+1, err)
		}
	}
	if _, _, err := p.BeginLogin(t.Context(), nil, "192.0.2.9"); err != nil {
		t.Errorf("another client: %v", err)
	}
}

func TestPasskeyName(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "Passkey",
		"   ":                          "Passkey",
		" Pixel 8 ":                    "Pixel 8",
		"bad \xff utf8":                "bad  utf8",
		string(make([]byte, 100)):      string(make([]byte, 64)),
		"ü" + string(make([]byte, 63)): "ü" + string(make([]byte, 62)),
	} {
		if got := account.PasskeyName(in); got != want {
			t.Errorf("PasskeyName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPasskeyFinish: whatever a browser (or an attacker) sends as the
// answer to a ceremony is refused cleanly, never a panic, never a login.
func FuzzPasskeyFinish(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":"MQ"}}`))
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	e := newEnv(f)
	p := newPasskeys(f, e)
	ann := e.user(f, "ann")
	// Each try from a client of its own: one client would meet the
	// per-client limit of ceremonies after a few tries.
	var clients atomic.Uint32
	f.Fuzz(func(t *testing.T, answer []byte) {
		n := clients.Add(1)
		ip := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}).String()
		_, c, err := p.BeginLogin(context.Background(), nil, ip)
		if err != nil {
			t.Fatal(err)
		}
		if u, _, err := p.FinishLogin(context.Background(), c, answer); err == nil || u != nil {
			t.Fatalf("FinishLogin accepted %q", answer)
		}
		_, rc, err := p.BeginRegistration(context.Background(), ann)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.FinishRegistration(context.Background(), ann, rc, answer, "x"); err == nil {
			t.Fatalf("FinishRegistration accepted %q", answer)
		}
	})
}
