package password_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchgo/latch/password"
)

// countingHasher returns a Hasher with testParams and a counter of the
// hash computations it runs.
func countingHasher(t *testing.T) (*password.Hasher, *atomic.Int64) {
	t.Helper()
	h := password.NewHasher(testParams)
	var n atomic.Int64
	password.SetComputeHook(h, func() { n.Add(1) })
	return h, &n
}

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	ctx := context.Background()
	tests := []struct {
		name, password string
	}{
		{"ascii", "correct horse battery staple"},
		{"spaces inside and around", "  a passphrase with  spaces  "},
		{"symbols", `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`"},
		{"NUL bytes", "nul\x00inside\x00password"},
		{"empty", ""},
		{"64 two-byte characters", strings.Repeat("é", 64)},
		{"64 four-byte characters", strings.Repeat("🙂", 64)},
		{"128 mixed multi-byte characters", strings.Repeat("日本語パスワード🙂ü", 16)},
		{"exactly MaxBytes", strings.Repeat("x", password.MaxBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := h.Hash(ctx, tt.password)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("Hash = %q, want an argon2id PHC string with testParams", encoded)
			}
			if f, err := password.Identify(encoded); f != password.FormatArgon2id || err != nil {
				t.Errorf("Identify = %v, %v; want argon2id", f, err)
			}
			ok, rehash, err := h.Verify(ctx, tt.password, encoded)
			if !ok || rehash || err != nil {
				t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			wrong := tt.password + "!"
			if len(wrong) > password.MaxBytes {
				wrong = tt.password[:len(tt.password)-1] + "!"
			}
			ok, rehash, err = h.Verify(ctx, wrong, encoded)
			if ok || rehash || err != nil {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	a, err := h.Hash(context.Background(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(context.Background(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %q", a)
	}
}

// NFKC: the same password typed on devices that compose characters
// differently must log in (NIST SP 800-63B 5.1.1.2).
func TestNFKC(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	ctx := context.Background()
	tests := []struct {
		name, set, login string
	}{
		{"composed then decomposed", "caf\u00e9 au lait", "cafe\u0301 au lait"},
		{"decomposed then composed", "cafe\u0301 au lait", "caf\u00e9 au lait"},
		{"compatibility forms (fullwidth)", "ｐａｓｓｗｏｒｄ１２３", "password123"},
		{"ligature", "\ufb01refly night", "firefly night"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := h.Hash(ctx, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _, err := h.Verify(ctx, tt.login, encoded); !ok || err != nil {
				t.Errorf("Verify(%q) against hash of %q = %v, %v; want true", tt.login, tt.set, ok, err)
			}
		})
	}
}

// Every byte counts: no truncation, no trimming, no case folding.
func TestNoTruncationTrimmingOrFolding(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(testParams)
	ctx := context.Background()
	long := strings.Repeat("0123456789", 10) // 100 bytes
	mixed := "Correct Horse Battery Staple"
	tests := []struct {
		name, set, login string
	}{
		{"first 72 of 100 bytes", long, long[:72]},
		{"first 99 of 100 bytes", long, long[:99]},
		{"100 bytes, last one changed", long, long[:99] + "x"},
		{"trailing space added", mixed, mixed + " "},
		{"leading space added", mixed, " " + mixed},
		{"trailing space dropped", mixed + " ", mixed},
		{"case flipped", mixed, strings.ToLower(mixed)},
		{"one letter's case flipped", mixed, "c" + mixed[1:]},
		{"multi-byte, last character dropped", strings.Repeat("ü", 64), strings.Repeat("ü", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := h.Hash(ctx, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _, err := h.Verify(ctx, tt.login, encoded); ok || err != nil {
				t.Errorf("Verify(%q) against hash of %q = %v, %v; want false, nil", tt.login, tt.set, ok, err)
			}
		})
	}
}

// A huge password is refused before any work: no slot taken, no hash
// computed, whatever the stored hash.
func TestTooLongRefusedWithoutHashing(t *testing.T) {
	t.Parallel()
	h, computed := countingHasher(t)
	ctx := context.Background()
	huge := strings.Repeat("a", 1<<20)
	justOver := strings.Repeat("a", password.MaxBytes+1)
	stored, err := password.NewHasher(testParams).Hash(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{huge, justOver} {
		if _, err := h.Hash(ctx, pw); !errors.Is(err, password.ErrTooLong) {
			t.Errorf("Hash(%d bytes) error = %v, want ErrTooLong", len(pw), err)
		}
		if ok, _, err := h.Verify(ctx, pw, stored); ok || !errors.Is(err, password.ErrTooLong) {
			t.Errorf("Verify(%d bytes) = %v, %v; want false, ErrTooLong", len(pw), ok, err)
		}
		if ok, _, err := h.Verify(ctx, pw, "$2b$12$2h65PZdeL0OjncUz7iDCfOznaoKWMkikqOjh9f/aUuhLxSVkLYw3S"); ok || !errors.Is(err, password.ErrTooLong) {
			t.Errorf("Verify(%d bytes, bcrypt) = %v, %v; want false, ErrTooLong", len(pw), ok, err)
		}
		if err := h.DummyVerify(ctx, pw); !errors.Is(err, password.ErrTooLong) {
			t.Errorf("DummyVerify(%d bytes) error = %v, want ErrTooLong", len(pw), err)
		}
	}
	if n := computed.Load(); n != 0 {
		t.Errorf("%d hashes computed for too-long passwords, want 0", n)
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := password.NewHasher(testParams)
	encoded, err := old.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*password.Params)) password.Params {
		p := testParams
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		params password.Params
		want   bool
	}{
		{"same params", testParams, false},
		{"more memory", with(func(p *password.Params) { p.Memory = 128 }), true},
		{"more time", with(func(p *password.Params) { p.Time = 2 }), true},
		{"more threads", with(func(p *password.Params) { p.Threads = 2 }), true},
		{"longer salt", with(func(p *password.Params) { p.SaltLen = 32 }), true},
		{"longer key", with(func(p *password.Params) { p.KeyLen = 64 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := password.NewHasher(tt.params)
			ok, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
			if !ok || err != nil || rehash != tt.want {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, err := h.Verify(ctx, "wrong", encoded); ok || rehash || err != nil {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	t.Parallel()
	h, computed := countingHasher(t)
	ctx := context.Background()
	for _, pw := range []string{"", "correct horse battery staple", strings.Repeat("é", 200)} {
		if err := h.DummyVerify(ctx, pw); err != nil {
			t.Errorf("DummyVerify(%q) = %v", pw, err)
		}
	}
	if n := computed.Load(); n != 3 {
		t.Errorf("DummyVerify computed %d hashes for 3 calls, want 3", n)
	}
}

func TestZeroHasherUsesDefaults(t *testing.T) {
	t.Parallel()
	var h password.Hasher
	if got := h.Params(); got != password.DefaultParams {
		t.Fatalf("zero Hasher Params() = %+v, want DefaultParams", got)
	}
	encoded, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want DefaultParams", encoded)
	}
	if ok, rehash, err := password.NewHasher(password.DefaultParams).Verify(context.Background(), "correct horse battery staple", encoded); !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*password.Params)) password.Params {
		p := password.DefaultParams
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		params password.Params
		ok     bool
	}{
		{"DefaultParams", password.DefaultParams, true},
		{"test params", testParams, true},
		{"OWASP alternative m=46MiB t=1", with(func(p *password.Params) { p.Memory, p.Time = 47104, 1 }), true},
		{"zero", password.Params{}, false},
		{"time 0", with(func(p *password.Params) { p.Time = 0 }), false},
		{"time 65", with(func(p *password.Params) { p.Time = 65 }), false},
		{"threads 0", with(func(p *password.Params) { p.Threads = 0 }), false},
		{"threads 65", with(func(p *password.Params) { p.Threads = 65 }), false},
		{"memory below 8 KiB per lane", with(func(p *password.Params) { p.Memory, p.Threads = 15, 2 }), false},
		{"memory above 1 GiB", with(func(p *password.Params) { p.Memory = 1<<20 + 1 }), false},
		{"salt 7 bytes", with(func(p *password.Params) { p.SaltLen = 7 }), false},
		{"salt 129 bytes", with(func(p *password.Params) { p.SaltLen = 129 }), false},
		{"key 15 bytes", with(func(p *password.Params) { p.KeyLen = 15 }), false},
		{"key 129 bytes", with(func(p *password.Params) { p.KeyLen = 129 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.params.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, password.ErrInvalidParams) {
				t.Errorf("Validate() = %v, want it to wrap ErrInvalidParams", err)
			}
		})
	}
}

func TestNewHasherPanicsOnInvalidParams(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewHasher(Params{}) did not panic")
		}
	}()
	password.NewHasher(password.Params{})
}

// Stored hashes are untrusted input: broken ones are errors, never
// panics, never matches.
func TestMalformedHashes(t *testing.T) {
	t.Parallel()
	h, computed := countingHasher(t)
	ctx := context.Background()
	const (
		salt = "c2FsdHNhbHRzYWx0c2FsdA" // 16 bytes
		key  = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	)
	bcryptHash := "$2b$04$abcdefghijklmnopqrstuu" + strings.Repeat("A", 31)
	tests := []struct {
		name, encoded string
		want          error
	}{
		{"empty", "", password.ErrUnknownFormat},
		{"plain text", "hunter2hunter2", password.ErrUnknownFormat},
		{"md5 crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", password.ErrUnknownFormat},
		{"sha512 crypt", "$6$rounds=5000$salt$abc", password.ErrUnknownFormat},
		{"werkzeug plain", "plain$$hunter2", password.ErrUnknownFormat},
		{"werkzeug salted sha1", "sha1$salt$0123456789abcdef0123456789abcdef01234567", password.ErrUnknownFormat},
		{"newline inside", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "\n$" + key, password.ErrMalformedHash},
		{"trailing space", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + " ", password.ErrMalformedHash},
		{"non-ASCII", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "é", password.ErrMalformedHash},
		{"too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 2000), password.ErrMalformedHash},

		{"argon2id truncated", "$argon2id$v=19$m=64,t=1,p=1$" + salt, password.ErrMalformedHash},
		{"argon2id extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$", password.ErrMalformedHash},
		{"argon2id bad version text", "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnknownFormat},
		{"argon2id without version (v1.0)", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnknownFormat},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnknownFormat},
		{"argon2id params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id keyid param", "$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id huge number", "$argon2id$v=19$m=99999999999999999999999,t=1,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id t=0", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id p=0", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, password.ErrMalformedHash},
		{"argon2id padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, password.ErrMalformedHash},
		{"argon2id non-canonical base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:21] + "B$" + key, password.ErrMalformedHash},
		{"argon2id bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key, password.ErrMalformedHash},
		{"argon2id short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key, password.ErrMalformedHash},
		{"argon2id short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5", password.ErrMalformedHash},
		{"argon2id empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", password.ErrMalformedHash},

		{"bcrypt short", "$2b$04$abc", password.ErrMalformedHash},
		{"bcrypt long", bcryptHash + "A", password.ErrMalformedHash},
		{"bcrypt $2x$", "$2x$" + bcryptHash[4:], password.ErrUnknownFormat},
		{"bcrypt $2$", "$2$04$" + bcryptHash[7:] + "A", password.ErrMalformedHash},
		{"bcrypt bad cost", "$2b$xx$" + bcryptHash[7:], password.ErrMalformedHash},
		{"bcrypt cost 3", "$2b$03$" + bcryptHash[7:], password.ErrMalformedHash},
		{"bcrypt bad alphabet", bcryptHash[:40] + "+" + bcryptHash[41:], password.ErrMalformedHash},
		{"bcrypt non-canonical salt", bcryptHash[:28] + "v" + bcryptHash[29:], password.ErrMalformedHash},
		{"django bcrypt_sha256 empty", "bcrypt_sha256$", password.ErrMalformedHash},
		{"django bcrypt_sha256 single $", "bcrypt_sha256" + bcryptHash, password.ErrMalformedHash},

		{"werkzeug pbkdf2 missing hash", "pbkdf2:sha256:1000$salt", password.ErrMalformedHash},
		{"werkzeug pbkdf2 empty salt", "pbkdf2:sha256:1000$$" + strings.Repeat("ab", 32), password.ErrMalformedHash},
		{"werkzeug pbkdf2 upper-case hex", "pbkdf2:sha256:1000$salt$" + strings.Repeat("AB", 32), password.ErrMalformedHash},
		{"werkzeug pbkdf2 odd hex", "pbkdf2:sha256:1000$salt$" + strings.Repeat("ab", 31) + "a", password.ErrMalformedHash},
		{"werkzeug pbkdf2 wrong length", "pbkdf2:sha256:1000$salt$" + strings.Repeat("ab", 20), password.ErrMalformedHash},
		{"werkzeug pbkdf2 md5", "pbkdf2:md5:1000$salt$" + strings.Repeat("ab", 16), password.ErrUnknownFormat},
		{"werkzeug pbkdf2 too many args", "pbkdf2:sha256:1000:1$salt$" + strings.Repeat("ab", 32), password.ErrMalformedHash},
		{"werkzeug pbkdf2 empty iterations", "pbkdf2:sha256:$salt$" + strings.Repeat("ab", 32), password.ErrMalformedHash},
		{"werkzeug scrypt two args", "scrypt:16:8$salt$" + strings.Repeat("ab", 64), password.ErrMalformedHash},
		{"werkzeug scrypt short hash", "scrypt:16:8:1$salt$" + strings.Repeat("ab", 32), password.ErrMalformedHash},

		{"django pbkdf2 three fields", "pbkdf2_sha256$1000$salt", password.ErrMalformedHash},
		{"django pbkdf2 bad iterations", "pbkdf2_sha256$abc$salt$" + strings.Repeat("A", 43) + "=", password.ErrMalformedHash},
		{"django pbkdf2 unpadded", "pbkdf2_sha256$1000$salt$" + strings.Repeat("A", 43), password.ErrMalformedHash},
		{"django pbkdf2 wrong length", "pbkdf2_sha1$1000$salt$" + strings.Repeat("A", 43) + "=", password.ErrMalformedHash},
		{"django pbkdf2 empty salt", "pbkdf2_sha256$1000$$" + strings.Repeat("A", 43) + "=", password.ErrMalformedHash},
		{"django pbkdf2_sha512", "pbkdf2_sha512$1000$salt$abc", password.ErrUnknownFormat},
		{"django argon2 argon2d", "argon2$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key, password.ErrUnknownFormat},
		{"django argon2 truncated", "argon2$argon2id$v=19", password.ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(ctx, "password", tt.encoded)
			if ok || rehash || !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, %v, %v; want false, false, an error wrapping %v", ok, rehash, err, tt.want)
			}
			if _, err := password.Identify(tt.encoded); !errors.Is(err, tt.want) {
				t.Errorf("Identify error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Cleanup(func() {
		if n := computed.Load(); n != 0 {
			t.Errorf("%d hashes computed for malformed input, want 0", n)
		}
	})
}

// Stored hashes with absurd cost parameters are refused before any
// computation, so one bad row cannot take a server down.
func TestStoredHashBounds(t *testing.T) {
	t.Parallel()
	h, computed := countingHasher(t)
	ctx := context.Background()
	const (
		salt = "c2FsdHNhbHRzYWx0c2FsdA"
		key  = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	)
	hex32, hex64 := strings.Repeat("ab", 32), strings.Repeat("ab", 64)
	b64sha256 := strings.Repeat("A", 43) + "="
	bcryptTail := "abcdefghijklmnopqrstuu" + strings.Repeat("A", 31)
	tests := []struct {
		name, encoded string
		ok            bool // within bounds: parses (Identify succeeds)
	}{
		{"argon2 m = 1 GiB", "$argon2id$v=19$m=1048576,t=1,p=1$" + salt + "$" + key, true},
		{"argon2 m > 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key, false},
		{"argon2 m = 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, false},
		{"argon2 t = 64", "$argon2id$v=19$m=64,t=64,p=1$" + salt + "$" + key, true},
		{"argon2 t = 65", "$argon2id$v=19$m=64,t=65,p=1$" + salt + "$" + key, false},
		{"argon2 p = 64", "$argon2id$v=19$m=512,t=1,p=64$" + salt + "$" + key, true},
		{"argon2 p = 65", "$argon2id$v=19$m=1024,t=1,p=65$" + salt + "$" + key, false},
		{"argon2 m < 8p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, false},
		{"argon2 salt 129 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 172) + "$" + key, false},
		{"argon2 key 129 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 172), false},
		{"django argon2 m > 1 GiB", "argon2$argon2id$v=19$m=2000000,t=1,p=1$" + salt + "$" + key, false},

		{"werkzeug pbkdf2 10M iterations", "pbkdf2:sha256:10000000$salt$" + hex32, true},
		{"werkzeug pbkdf2 10M+1 iterations", "pbkdf2:sha256:10000001$salt$" + hex32, false},
		{"werkzeug pbkdf2 0 iterations", "pbkdf2:sha256:0$salt$" + hex32, false},
		{"werkzeug pbkdf2 2^64 iterations", "pbkdf2:sha256:18446744073709551616$salt$" + hex32, false},
		{"django pbkdf2 0 iterations", "pbkdf2_sha256$0$salt$" + b64sha256, false},
		{"django pbkdf2 10M+1 iterations", "pbkdf2_sha256$10000001$salt$" + b64sha256, false},

		{"scrypt N = 2^20", "scrypt:1048576:8:1$salt$" + hex64, true},
		{"scrypt N = 2^21", "scrypt:2097152:1:1$salt$" + hex64, false},
		{"scrypt N not a power of two", "scrypt:32767:8:1$salt$" + hex64, false},
		{"scrypt N = 1", "scrypt:1:8:1$salt$" + hex64, false},
		{"scrypt N = 0", "scrypt:0:8:1$salt$" + hex64, false},
		{"scrypt r = 32", "scrypt:16384:32:1$salt$" + hex64, true},
		{"scrypt r = 33", "scrypt:1024:33:1$salt$" + hex64, false},
		{"scrypt r = 0", "scrypt:1024:0:1$salt$" + hex64, false},
		{"scrypt p = 16", "scrypt:1024:8:16$salt$" + hex64, true},
		{"scrypt p = 17", "scrypt:1024:8:17$salt$" + hex64, false},
		{"scrypt p = 0", "scrypt:1024:8:0$salt$" + hex64, false},
		{"scrypt 128*N*r*p = 2 GiB", "scrypt:1048576:16:1$salt$" + hex64, false},
		{"scrypt 128*N*r*p = 2 GiB via p", "scrypt:1048576:8:2$salt$" + hex64, false},

		{"bcrypt cost 18", "$2b$18$" + bcryptTail, true},
		{"bcrypt cost 19", "$2b$19$" + bcryptTail, false},
		{"bcrypt cost 31", "$2b$31$" + bcryptTail, false},
		{"bcrypt cost 99", "$2y$99$" + bcryptTail, false},
		{"django bcrypt_sha256 cost 31", "bcrypt_sha256$$2b$31$" + bcryptTail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := password.Identify(tt.encoded)
			if tt.ok {
				if err != nil {
					t.Errorf("Identify = %v, want this at-the-bound hash accepted", err)
				}
				return // not verified: computing it is exactly what is slow
			}
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("Identify error = %v, want ErrMalformedHash", err)
			}
			ok, _, err := h.Verify(ctx, "password", tt.encoded)
			if ok || !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("Verify = %v, %v; want false and ErrMalformedHash", ok, err)
			}
		})
	}
	t.Cleanup(func() {
		if n := computed.Load(); n != 0 {
			t.Errorf("%d hashes computed for out-of-bounds hashes, want 0", n)
		}
	})
}

func TestFormatString(t *testing.T) {
	t.Parallel()
	for f := password.FormatUnknown; f <= password.FormatDjangoArgon2; f++ {
		if s := f.String(); s == "" || strings.HasPrefix(s, "Format(") {
			t.Errorf("Format(%d).String() = %q, want a name", int(f), s)
		}
	}
	if s := password.Format(99).String(); s != "Format(99)" {
		t.Errorf("Format(99).String() = %q", s)
	}
}
