package password_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/latchgo/latch/password"
)

// formatOf maps the "format" descriptions of the test-vector files to the
// Format that Identify must report.
func formatOf(tb testing.TB, description string) password.Format {
	tb.Helper()
	d := strings.ToLower(description)
	switch {
	case strings.HasPrefix(d, "werkzeug") && strings.Contains(d, "scrypt"):
		return password.FormatWerkzeugScrypt
	case strings.HasPrefix(d, "werkzeug") && strings.Contains(d, "pbkdf2"):
		return password.FormatWerkzeugPBKDF2
	case strings.HasPrefix(d, "django pbkdf2_sha256"):
		return password.FormatDjangoPBKDF2SHA256
	case strings.HasPrefix(d, "django pbkdf2_sha1"):
		return password.FormatDjangoPBKDF2SHA1
	case strings.HasPrefix(d, "django bcrypt_sha256"):
		return password.FormatDjangoBcryptSHA256
	case strings.HasPrefix(d, "django bcrypt"):
		return password.FormatDjangoBcrypt
	case strings.HasPrefix(d, "django argon2"):
		return password.FormatDjangoArgon2
	case strings.HasPrefix(d, "bcrypt $2"):
		return password.FormatBcrypt
	case strings.HasPrefix(d, "argon2-cffi argon2id"):
		return password.FormatArgon2id
	case strings.HasPrefix(d, "argon2-cffi argon2i"):
		return password.FormatArgon2i
	}
	tb.Fatalf("no Format known for test vector %q", description)
	return password.FormatUnknown
}

// TestLegacyHashes verifies every hash made by the real software
// (werkzeug, Django, Python bcrypt, argon2-cffi): the right password logs
// in and asks for a rehash, the entries marked wrong do not log in.
func TestLegacyHashes(t *testing.T) {
	t.Parallel()
	h := patientHasher(password.DefaultParams)
	ctx := context.Background()
	for _, file := range []string{"legacy-hashes.json", "extra-hashes.json"} {
		for i, v := range loadVectors(t, file) {
			name := file + "/" + v.Format
			if v.Wrong {
				name += "/wrong"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f, err := password.Identify(v.Hash)
				if err != nil || f != formatOf(t, v.Format) {
					t.Errorf("entry %d: Identify(%q) = %v, %v; want %v", i, v.Hash, f, err, formatOf(t, v.Format))
				}
				ok, rehash, err := h.Verify(ctx, v.Password, v.Hash)
				if err != nil {
					t.Fatalf("entry %d: Verify error: %v", i, err)
				}
				if v.Wrong {
					if ok || rehash {
						t.Errorf("entry %d: wrong password %q verified %q (rehash=%v)", i, v.Password, v.Hash, rehash)
					}
					return
				}
				if !ok {
					t.Errorf("entry %d: password %q did not verify %q", i, v.Password, v.Hash)
				}
				if !rehash {
					t.Errorf("entry %d: legacy hash %q did not ask for a rehash", i, v.Hash)
				}
			})
		}
	}
}

// Legacy hashes are checked against the password as received: the old
// systems did not normalise it, so neither may we.
func TestLegacyPasswordNotNormalised(t *testing.T) {
	t.Parallel()
	h := patientHasher(testParams)
	ctx := context.Background()
	const pw = "pässwörd-ünïcode-✓ 🙂" // composed, as in the vector file
	const werkzeug = "pbkdf2:sha256:260000$2pN6Bvrjq3pF6NGy$922c40d35495088661b38180159b4599af483baa80435e50b81cc86ecd47b039"
	if ok, _, err := h.Verify(ctx, pw, werkzeug); !ok || err != nil {
		t.Fatalf("composed password: Verify = %v, %v; want true", ok, err)
	}
	decomposed := norm.NFD.String(pw)
	if decomposed == pw {
		t.Fatal("test needs a password that NFD changes")
	}
	if ok, _, err := h.Verify(ctx, decomposed, werkzeug); ok || err != nil {
		t.Errorf("decomposed password: Verify = %v, %v; want false (werkzeug hashed the raw bytes)", ok, err)
	}
}

// The import path: verify a legacy hash, see needsRehash, store the
// argon2id hash, which then verifies without asking for another rehash.
func TestLegacyUpgrade(t *testing.T) {
	t.Parallel()
	h := patientHasher(testParams)
	ctx := context.Background()
	for _, v := range loadVectors(t, "legacy-hashes.json") {
		if v.Wrong || strings.Contains(v.Format, "bcrypt") {
			continue // bcrypt cost 12 is slow; the bcrypt upgrade has its own test
		}
		t.Run(v.Format+"/"+v.Password[:4], func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(ctx, v.Password, v.Hash)
			if !ok || !rehash || err != nil {
				t.Fatalf("Verify(legacy) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			upgraded, err := h.Hash(ctx, v.Password)
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err = h.Verify(ctx, v.Password, upgraded)
			if !ok || rehash || err != nil {
				t.Errorf("Verify(upgraded) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
		})
	}
}

// bcrypt only ever hashed 72 bytes. An imported bcrypt hash of a longer
// password matches its 72-byte prefix, as it did on the old system; the
// upgrade to argon2id closes that for good.
func TestBcrypt72ByteLimitEndsAtUpgrade(t *testing.T) {
	t.Parallel()
	h := patientHasher(testParams)
	ctx := context.Background()
	long := strings.Repeat("x", 100)
	const imported = "$2b$12$JRT5gU/LzqbSlesxEkkDpO5c14X/JxkKmvpu38YuIyKvDZXuSF6.6" // from legacy-hashes.json
	ok, rehash, err := h.Verify(ctx, long, imported)
	if !ok || !rehash || err != nil {
		t.Fatalf("Verify(100 bytes, bcrypt) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, long[:71], imported); ok || err != nil {
		t.Errorf("Verify(71 bytes, bcrypt) = %v, %v; want false", ok, err)
	}
	upgraded, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, long[:72], upgraded); ok || err != nil {
		t.Errorf("after upgrade, Verify(first 72 bytes) = %v, %v; want false", ok, err)
	}
	if ok, rehash, err := h.Verify(ctx, long, upgraded); !ok || rehash || err != nil {
		t.Errorf("after upgrade, Verify(100 bytes) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

// werkzeug hashes without an iteration count use the Hasher's
// WerkzeugIterations.
func TestWerkzeugIterations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw, salt = "correct horse battery staple", "S4ltS4lt"
	dk, err := pbkdf2.Key(sha256.New, pw, []byte(salt), 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	bare := "pbkdf2:sha256$" + salt + "$" + hex.EncodeToString(dk)
	bareNoHash := "pbkdf2$" + salt + "$" + hex.EncodeToString(dk)
	explicit := "pbkdf2:sha256:1000$" + salt + "$" + hex.EncodeToString(dk)

	def := password.NewHasher(testParams)
	if got := def.WerkzeugIterations; got != password.DefaultWerkzeugIterations {
		t.Errorf("NewHasher WerkzeugIterations = %d, want %d", got, password.DefaultWerkzeugIterations)
	}
	set := password.NewHasher(testParams)
	set.WerkzeugIterations = 1000
	tests := []struct {
		name    string
		h       *password.Hasher
		encoded string
		want    bool
	}{
		{"explicit count, default hasher", def, explicit, true},
		{"explicit count wins over the field", set, explicit, true},
		{"bare, field matches", set, bare, true},
		{"bare without hash name, field matches", set, bareNoHash, true},
		{"bare, default 1000000 does not match", def, bare, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := tt.h.Verify(ctx, pw, tt.encoded)
			if ok != tt.want || err != nil {
				t.Errorf("Verify = %v, %v; want %v, nil", ok, err, tt.want)
			}
		})
	}
}
