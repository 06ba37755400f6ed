package password_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/latchgo/latch/password"
)

// fuzzHasher is a Hasher whose stored-hash bounds are tiny, so that the
// fuzzer, mutating real hashes into costlier ones, stays fast. Bare
// werkzeug pbkdf2 hashes use 1000 iterations.
func fuzzHasher() *password.Hasher {
	h := password.NewHasher(testParams)
	h.MaxWait = 1 << 62
	h.MaxQueue = 1 << 20
	h.WerkzeugIterations = 1000
	password.UseTinyLimits(h)
	return h
}

// cheapPair is a hash made by the algorithm's reference construction with
// parameters inside fuzzHasher's bounds.
type cheapPair struct {
	password, encoded string
}

// cheapBcrypt holds cost-4 hashes made by Python's bcrypt 3.2.2 (bcrypt
// salts are random and x/crypto cannot take a fixed one, so they are
// written down: a fuzzing worker must see the same pairs as the
// coordinator). For each password: plain bcrypt, then bcrypt of the
// lowercase hex SHA-256 (Django's bcrypt_sha256).
var cheapBcrypt = map[string][2]string{
	"correct horse battery staple": {"$2b$04$.HHEy/NTDv/ZsnDR7SUQkOqB2hc6gPDD.uP5ynrgnwPU1n.tAe7DW", "$2b$04$rYEsGOCBkdbyqhMwxRCc8.2upyYjPaW.lUewFuUnXNhYdovNOC7LK"},
	"pässwörd-ünïcode-✓ 🙂":         {"$2b$04$HiWCqSD68l9QMVO6cEBdQ.8dp2n5kyZEArkWH25YQKTOsoxNKkgSK", "$2b$04$ZzLF.SrZPsvMa1CTswOXY.o8xm2Lk860MGqrTEdcnDzoRl2BNMliu"},
	"":                             {"$2b$04$fgEl/u4tisMvTUc5NjDm0eH36P/vfBvf0VczgmbraniR1LRJ3C/.y", "$2b$04$UrYeEV/TPPdL3hCGYJoR1ump7qR0ScMY8q2BN27dwpShNq68UMcWS"},
	strings.Repeat("x", 100):       {"$2b$04$ILWCdx05MtkUeL8785P51OTymNSrhqlRCE9lRW0ZIaM/8U29kw1oq", "$2b$04$BNyO524LiVD0lL0bZwzNnehZYYiqIBURwi7jtALlIbfr7.Tgv52pW"},
}

// cheapPairs is deterministic: the fuzzing coordinator and its workers
// must agree on it.
var cheapPairs = sync.OnceValue(func() []cheapPair {
	var pairs []cheapPair
	add := func(p cheapPair) { pairs = append(pairs, p) }
	must := func(b []byte, err error) []byte {
		if err != nil {
			panic(err)
		}
		return b
	}
	b64 := base64.RawStdEncoding
	for _, pw := range []string{"correct horse battery staple", "pässwörd-ünïcode-✓ 🙂", "", strings.Repeat("x", 100)} {
		salt := "c2FsdHNhbHQ" // werkzeug and Django salts are strings
		saltBytes := []byte("saltsaltsaltsalt")

		// latch's own format, with testParams and a fixed salt.
		key := argon2.IDKey([]byte(norm.NFKC.String(pw)), saltBytes, testParams.Time, testParams.Memory, testParams.Threads, testParams.KeyLen)
		add(cheapPair{password: pw, encoded: fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
			testParams.Memory, testParams.Time, testParams.Threads, b64.EncodeToString(saltBytes), b64.EncodeToString(key))})
		// argon2i PHC, NFKC like the argon2id PHC.
		key = argon2.Key([]byte(norm.NFKC.String(pw)), saltBytes, 2, 64, 1, 16)
		add(cheapPair{password: pw, encoded: fmt.Sprintf("$argon2i$v=19$m=64,t=2,p=1$%s$%s", b64.EncodeToString(saltBytes), b64.EncodeToString(key))})
		// Django argon2: raw password.
		key = argon2.IDKey([]byte(pw), []byte(salt), 1, 64, 2, 16)
		add(cheapPair{password: pw, encoded: fmt.Sprintf("argon2$argon2id$v=19$m=64,t=1,p=2$%s$%s", b64.EncodeToString([]byte(salt)), b64.EncodeToString(key))})

		// bcrypt and the Django wrappers.
		bc := cheapBcrypt[pw]
		add(cheapPair{password: pw, encoded: bc[0]})
		add(cheapPair{password: pw, encoded: "$2a$" + bc[0][4:]})
		add(cheapPair{password: pw, encoded: "$2y$" + bc[0][4:]})
		add(cheapPair{password: pw, encoded: "bcrypt$" + bc[0]})
		add(cheapPair{password: pw, encoded: "bcrypt_sha256$" + bc[1]})

		// werkzeug.
		for _, w := range []struct {
			name string
			h    func() hash.Hash
		}{{"sha256", sha256.New}, {"sha512", sha512.New}, {"sha1", sha1.New}} {
			dk := must(pbkdf2.Key(w.h, pw, []byte(salt), 1000, w.h().Size()))
			add(cheapPair{password: pw, encoded: fmt.Sprintf("pbkdf2:%s:1000$%s$%x", w.name, salt, dk)})
			add(cheapPair{password: pw, encoded: fmt.Sprintf("pbkdf2:%s$%s$%x", w.name, salt, dk)})
		}
		dk := must(scrypt.Key([]byte(pw), []byte(salt), 16, 2, 1, 64))
		add(cheapPair{password: pw, encoded: fmt.Sprintf("scrypt:16:2:1$%s$%x", salt, dk)})

		// Django pbkdf2.
		dk = must(pbkdf2.Key(sha256.New, pw, []byte(salt), 1000, 32))
		add(cheapPair{password: pw, encoded: "pbkdf2_sha256$1000$" + salt + "$" + base64.StdEncoding.EncodeToString(dk)})
		dk = must(pbkdf2.Key(sha1.New, pw, []byte(salt), 1000, 20))
		add(cheapPair{password: pw, encoded: "pbkdf2_sha1$1000$" + salt + "$" + base64.StdEncoding.EncodeToString(dk)})
	}
	return pairs
})

// knownPairs are the cheap pairs plus the real test vectors.
var knownPairs = sync.OnceValue(func() []cheapPair {
	pairs := append([]cheapPair(nil), cheapPairs()...)
	for _, file := range []string{"legacy-hashes.json", "extra-hashes.json"} {
		for _, v := range loadVectors(panicTB{}, file) {
			if !v.Wrong {
				pairs = append(pairs, cheapPair{password: v.Password, encoded: v.Hash})
			}
		}
	}
	return pairs
})

// panicTB lets loadVectors run outside a test's goroutine.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                        {}
func (panicTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// genuine reports whether (pw, encoded) is a pair that really verifies:
// a known pair's password, or one that the hash's algorithm cannot tell
// apart from it.
func genuine(pw, encoded string) bool {
	for _, p := range knownPairs() {
		if p.encoded == encoded && equivalent(encoded, pw, p.password) {
			return true
		}
	}
	return false
}

// equivalent reports whether the algorithm of encoded maps passwords a
// and b to the same hash. Besides equality these are properties of the
// algorithms, not of this package:
//   - latch's argon2 PHC strings hash the NFKC form;
//   - bcrypt hashes the password plus a NUL, repeated to 72 bytes, so
//     only the first 72 bytes count and "" is the same key as "\x00";
//   - PBKDF2 and scrypt key HMAC with the password, and HMAC pads short
//     keys with NUL bytes up to the hash's block size.
func equivalent(encoded, a, b string) bool {
	switch {
	case a == b:
		return true
	case strings.HasPrefix(encoded, "$argon2"):
		return norm.NFKC.String(a) == norm.NFKC.String(b)
	case strings.HasPrefix(encoded, "$2"), strings.HasPrefix(encoded, "bcrypt$"):
		return bcryptKey(a) == bcryptKey(b)
	case strings.HasPrefix(encoded, "pbkdf2:sha512"), strings.HasPrefix(encoded, "pbkdf2:sha384"):
		return hmacKey(a, 128) == hmacKey(b, 128)
	case strings.HasPrefix(encoded, "pbkdf2"), strings.HasPrefix(encoded, "scrypt"):
		return hmacKey(a, 64) == hmacKey(b, 64)
	}
	return false
}

func bcryptKey(pw string) string {
	k := pw + "\x00"
	var b strings.Builder
	for i := range 72 {
		b.WriteByte(k[i%len(k)])
	}
	return b.String()
}

// hmacKey is the padded HMAC key of a password no longer than the block
// (longer ones are hashed first; the fuzzer does not find such pairs, so
// they are compared as they are).
func hmacKey(pw string, block int) string {
	if len(pw) > block {
		return pw
	}
	return pw + strings.Repeat("\x00", block-len(pw))
}

func addEncodedSeeds(f *testing.F, add func(encoded string)) {
	f.Helper()
	for _, p := range cheapPairs() {
		add(p.encoded)
	}
	for _, file := range []string{"legacy-hashes.json", "extra-hashes.json"} {
		for _, v := range loadVectors(f, file) {
			add(v.Hash)
		}
	}
	for _, s := range []string{
		"", "$", "$$$$$", "$argon2id$", "$argon2id$v=19$m=,t=,p=$$", "$2b$", "$2b$04$",
		"pbkdf2:", "pbkdf2:sha256:", "pbkdf2$$", "scrypt:::$$", "pbkdf2_sha256$$$",
		"bcrypt_sha256$$", "argon2$", "argon2$argon2id$v=19$m=64,t=1,p=1$$",
	} {
		add(s)
	}
}

// checkErr fails unless err is one of the errors Verify and Identify may
// return for bad input.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrUnknownFormat) && !errors.Is(err, password.ErrTooLong) {
		t.Fatalf("error %v wraps none of ErrMalformedHash, ErrUnknownFormat, ErrTooLong", err)
	}
}

// FuzzIdentify feeds arbitrary strings to every hash-string parser.
func FuzzIdentify(f *testing.F) {
	addEncodedSeeds(f, func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, encoded string) {
		format, err := password.Identify(encoded)
		if format.String() == "" {
			t.Fatalf("Format %d has no name", int(format))
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		if format == password.FormatUnknown {
			t.Fatalf("Identify(%q) = FormatUnknown with a nil error", encoded)
		}
	})
}

// FuzzVerify feeds arbitrary password/hash pairs to Verify. It must never
// panic, only return the documented errors, and never accept a password
// that the hash was not made from.
func FuzzVerify(f *testing.F) {
	addEncodedSeeds(f, func(s string) {
		f.Add("correct horse battery staple", s)
		f.Add("pässwörd-ünïcode-✓ 🙂", s)
	})
	for _, p := range cheapPairs() {
		f.Add(p.password, p.encoded)
	}
	h := fuzzHasher()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		ok, rehash, err := h.Verify(ctx, pw, encoded)
		if err != nil {
			checkErr(t, err)
			if ok || rehash {
				t.Fatalf("Verify returned ok=%v, rehash=%v with error %v", ok, rehash, err)
			}
			if errors.Is(err, password.ErrUnknownFormat) {
				if _, idErr := password.Identify(encoded); idErr == nil {
					t.Fatalf("Verify says unknown format, Identify accepts %q", encoded)
				}
			}
			return
		}
		if rehash && !ok {
			t.Fatal("needsRehash without a match")
		}
		if ok && !genuine(pw, encoded) {
			t.Fatalf("Verify accepted password %q for hash %q that was not made from it", pw, encoded)
		}
	})
}

// FuzzHashRoundTrip: whatever the password, its hash verifies it and
// does not verify a different password.
func FuzzHashRoundTrip(f *testing.F) {
	for _, s := range []string{"", "correct horse battery staple", "cafe\u0301", "\x00\xff invalid utf-8", strings.Repeat("🙂", 64)} {
		f.Add(s)
	}
	h := fuzzHasher()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, pw string) {
		encoded, err := h.Hash(ctx, pw)
		if len(pw) > password.MaxBytes {
			if !errors.Is(err, password.ErrTooLong) {
				t.Fatalf("Hash(%d bytes) error = %v, want ErrTooLong", len(pw), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if ok, rehash, err := h.Verify(ctx, pw, encoded); !ok || rehash || err != nil {
			t.Fatalf("Verify(own hash) = %v, %v, %v", ok, rehash, err)
		}
		other := pw + "\x01"
		if len(other) > password.MaxBytes {
			return
		}
		if ok, _, err := h.Verify(ctx, other, encoded); ok || err != nil {
			t.Fatalf("Verify(%q) against hash of %q = %v, %v; want false", other, pw, ok, err)
		}
	})
}

// FuzzPolicyCheck: Check never panics and its verdicts are consistent.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range [][2]string{
		{"correct horse battery staple", "alice"},
		{"password", ""},
		{"aaaaaaaa", "bob@example.com"},
		{"ｌａｔｃｈ ｌａｔｃｈ", "latch"},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "@"},
		{"e\u0301e\u0301e\u0301e\u0301", "@@@"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pw, word string) {
		err := password.DefaultPolicy.Check(pw, word, "latch")
		if err == nil {
			n := utf8.RuneCountInString(norm.NFKC.String(pw))
			if n < password.DefaultPolicy.MinLength || n > password.DefaultPolicy.MaxLength {
				t.Fatalf("accepted %q of %d code points", pw, n)
			}
			if password.IsCommon(pw) {
				t.Fatalf("accepted common password %q", pw)
			}
			return
		}
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("Check error %v is not a *PolicyError", err)
		}
		if pe.Message == "" || strings.HasPrefix(pe.Reason.String(), "Reason(") {
			t.Fatalf("PolicyError %+v lacks a message or a known reason", pe)
		}
	})
}
