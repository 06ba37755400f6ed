package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Format names a stored-hash format. Only FormatArgon2id is ever written;
// the others are verified so that users imported from another system can
// log in once and be re-hashed (Verify reports needsRehash).
type Format int

// The formats Identify and Verify know.
const (
	// FormatUnknown is returned by Identify for strings it does not
	// recognise.
	FormatUnknown Format = iota
	// FormatArgon2id is latch's own format, a PHC string:
	// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard
	// base64). Hashes in this format from other systems verify too.
	FormatArgon2id
	// FormatArgon2i is the PHC string of Argon2i ($argon2i$v=19$...).
	FormatArgon2i
	// FormatBcrypt is a plain bcrypt hash, $2a$, $2b$ or $2y$ (Devise,
	// Laravel, PocketBase, Python's bcrypt, Go's x/crypto/bcrypt).
	FormatBcrypt
	// FormatWerkzeugPBKDF2 is werkzeug's pbkdf2:HASH:ITER$salt$hex
	// (also pbkdf2:HASH$... and pbkdf2$...), Flask's long-time default.
	FormatWerkzeugPBKDF2
	// FormatWerkzeugScrypt is werkzeug's scrypt:N:r:p$salt$hex (also
	// scrypt$...), the default since werkzeug 3.0.
	FormatWerkzeugScrypt
	// FormatDjangoPBKDF2SHA256 is Django's pbkdf2_sha256$ITER$salt$base64.
	FormatDjangoPBKDF2SHA256
	// FormatDjangoPBKDF2SHA1 is Django's pbkdf2_sha1$ITER$salt$base64.
	FormatDjangoPBKDF2SHA1
	// FormatDjangoBcryptSHA256 is Django's bcrypt_sha256$$2b$..., bcrypt
	// over the lowercase hex SHA-256 of the password.
	FormatDjangoBcryptSHA256
	// FormatDjangoBcrypt is Django's bcrypt$$2b$..., plain bcrypt.
	FormatDjangoBcrypt
	// FormatDjangoArgon2 is Django's argon2$argon2id$v=19$... (or
	// argon2i), a PHC string behind Django's algorithm prefix.
	FormatDjangoArgon2
)

var formatNames = [...]string{
	FormatUnknown:            "unknown",
	FormatArgon2id:           "argon2id",
	FormatArgon2i:            "argon2i",
	FormatBcrypt:             "bcrypt",
	FormatWerkzeugPBKDF2:     "werkzeug-pbkdf2",
	FormatWerkzeugScrypt:     "werkzeug-scrypt",
	FormatDjangoPBKDF2SHA256: "django-pbkdf2_sha256",
	FormatDjangoPBKDF2SHA1:   "django-pbkdf2_sha1",
	FormatDjangoBcryptSHA256: "django-bcrypt_sha256",
	FormatDjangoBcrypt:       "django-bcrypt",
	FormatDjangoArgon2:       "django-argon2",
}

func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// maxEncodedLen bounds the stored-hash string a parser looks at. Real
// hashes are under 200 bytes; the bound keeps parsing a hostile value
// cheap.
const maxEncodedLen = 1024

// limits are the bounds on the cost parameters read from a stored hash.
// Anything beyond them is refused as ErrMalformedHash before any work:
// no real system made such a hash, and computing it would let one corrupt
// or planted row pin a CPU for minutes or allocate gigabytes.
type limits struct {
	argonMemory  uint32 // KiB
	argonTime    uint32
	argonThreads uint32
	pbkdf2Iter   int
	scryptN      int
	scryptR      int
	scryptP      int
	scryptMem    int64 // bytes, 128*N*r*p
	bcryptCost   int
}

var defaultLimits = limits{
	argonMemory:  maxArgonMemory,
	argonTime:    maxArgonTime,
	argonThreads: maxArgonThreads,
	pbkdf2Iter:   10_000_000,
	scryptN:      1 << 20,
	scryptR:      32,
	scryptP:      16,
	scryptMem:    1 << 30,
	bcryptCost:   18,
}

// DefaultWerkzeugIterations is the PBKDF2 iteration count Verify assumes
// for a werkzeug hash whose method omits it (pbkdf2:sha256$salt$hex or
// pbkdf2$salt$hex), unless Hasher.WerkzeugIterations says otherwise.
//
// werkzeug's generate_password_hash has always written the count into the
// method (since 0.9), so such strings come from code that built them by
// hand; werkzeug's check_password_hash then applies the
// DEFAULT_PBKDF2_ITERATIONS of the installed werkzeug: 1000 (0.9-0.14),
// 150000 (0.15-1.0), 260000 (2.0-2.2), 600000 (2.3-3.0), 1000000 (3.1 and
// later). This package does what current werkzeug does.
const DefaultWerkzeugIterations = 1_000_000

// decoder carries what parsing depends on besides the string itself.
type decoder struct {
	lim          limits
	werkzeugIter int
}

var defaultDecoder = decoder{lim: defaultLimits, werkzeugIter: DefaultWerkzeugIterations}

// stored is a parsed stored hash, ready to be checked against a password.
type stored struct {
	format Format
	argon  *argonHash // set for the argon2 formats
	// check does the expensive work and the constant-time comparison. It
	// receives the password exactly as typed; normalisation, where the
	// format calls for it, happens inside.
	check func(password string) (bool, error)
}

// argonHash is a parsed argon2 PHC string.
type argonHash struct {
	variant string // "argon2id" or "argon2i"
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func (a *argonHash) derive(password []byte) []byte {
	if a.variant == "argon2i" {
		return argon2.Key(password, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	}
	return argon2.IDKey(password, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
}

// matches compares in constant time, so the time taken does not tell how
// much of a guess's derived key was right.
func (a *argonHash) matches(password []byte) bool {
	return subtle.ConstantTimeCompare(a.derive(password), a.key) == 1
}

func (a *argonHash) encode() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s",
		a.variant, argon2.Version, a.memory, a.time, a.threads,
		b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

// Identify names the format of a stored hash. It parses the whole string
// and applies the same bounds as Verify, so a nil error means Verify will
// attempt the hash. For a recognised but broken hash it returns the format
// with an error wrapping ErrMalformedHash; for an unrecognised one,
// FormatUnknown (or the family, for an unsupported variant) with an error
// wrapping ErrUnknownFormat. It never computes a hash.
func Identify(encoded string) (Format, error) {
	s, f, err := defaultDecoder.decode(encoded)
	if err != nil {
		return f, err
	}
	return s.format, nil
}

func malformed(f Format, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedHash, f, fmt.Sprintf(format, args...))
}

// decode parses encoded. On error it also returns the format it
// recognised, if any.
func (d *decoder) decode(encoded string) (*stored, Format, error) {
	if len(encoded) > maxEncodedLen {
		return nil, FormatUnknown, fmt.Errorf("%w: %d bytes, longer than any real hash", ErrMalformedHash, len(encoded))
	}
	// Real hashes are printable ASCII without spaces. Refusing anything
	// else up front also closes a malleability gap: Go's base64 decoders
	// skip CR and LF, so "ab\ncd" would otherwise decode like "abcd".
	for i := 0; i < len(encoded); i++ {
		if c := encoded[i]; c < 0x21 || c > 0x7e {
			return nil, FormatUnknown, fmt.Errorf("%w: byte 0x%02x at offset %d", ErrMalformedHash, c, i)
		}
	}
	var (
		s   *stored
		f   Format
		err error
	)
	switch {
	case strings.HasPrefix(encoded, "$argon2"):
		s, f, err = d.decodePHC(encoded, false)
	case strings.HasPrefix(encoded, "$2"):
		f = FormatBcrypt
		s, err = d.decodeBcrypt(encoded, f, bcryptPlain)
	case strings.HasPrefix(encoded, "pbkdf2:"), strings.HasPrefix(encoded, "pbkdf2$"):
		f = FormatWerkzeugPBKDF2
		s, err = d.decodeWerkzeugPBKDF2(encoded)
	case strings.HasPrefix(encoded, "scrypt:"), strings.HasPrefix(encoded, "scrypt$"):
		f = FormatWerkzeugScrypt
		s, err = d.decodeWerkzeugScrypt(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		f = FormatDjangoPBKDF2SHA256
		s, err = d.decodeDjangoPBKDF2(encoded, f, sha256.New)
	case strings.HasPrefix(encoded, "pbkdf2_sha1$"):
		f = FormatDjangoPBKDF2SHA1
		s, err = d.decodeDjangoPBKDF2(encoded, f, sha1.New)
	case strings.HasPrefix(encoded, "bcrypt_sha256$"):
		f = FormatDjangoBcryptSHA256
		s, err = d.decodeBcrypt(strings.TrimPrefix(encoded, "bcrypt_sha256$"), f, bcryptDjangoSHA256)
	case strings.HasPrefix(encoded, "bcrypt$"):
		f = FormatDjangoBcrypt
		s, err = d.decodeBcrypt(strings.TrimPrefix(encoded, "bcrypt$"), f, bcryptPlain)
	case strings.HasPrefix(encoded, "argon2$"):
		// Django stores "argon2" + argon2-cffi's PHC string minus its
		// leading "$".
		s, f, err = d.decodePHC(strings.TrimPrefix(encoded, "argon2"), true)
	default:
		return nil, FormatUnknown, fmt.Errorf("%w: unrecognised prefix", ErrUnknownFormat)
	}
	if err != nil {
		return nil, f, err
	}
	return s, f, nil
}

// decodePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$hash (and argon2i).
// Only version 19 (0x13) exists in x/crypto/argon2; the optional PHC
// keyid/data fields are not used by any system we import from and are
// refused.
func (d *decoder) decodePHC(encoded string, django bool) (*stored, Format, error) {
	f := FormatArgon2id
	if django {
		f = FormatDjangoArgon2
	}
	parts := strings.Split(encoded, "$")
	// "", variant, v=19, params, salt, hash
	if len(parts) < 2 {
		return nil, f, malformed(f, "too few fields")
	}
	variant := parts[1]
	switch variant {
	case "argon2id":
	case "argon2i":
		if !django {
			f = FormatArgon2i
		}
	default:
		return nil, f, fmt.Errorf("%w: %s: variant %q not supported", ErrUnknownFormat, f, variant)
	}
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		// No v= field: Argon2 version 1.0 (0x10), which x/crypto does
		// not implement.
		return nil, f, fmt.Errorf("%w: %s: argon2 version 16 (no v= field) not supported", ErrUnknownFormat, f)
	}
	if len(parts) != 6 || parts[0] != "" {
		return nil, f, malformed(f, "want 6 $-separated fields, got %d", len(parts))
	}
	if parts[2] != "v=19" {
		if v, ok := strings.CutPrefix(parts[2], "v="); ok && isDecimal(v) {
			return nil, f, fmt.Errorf("%w: %s: argon2 version %s not supported", ErrUnknownFormat, f, v)
		}
		return nil, f, malformed(f, "bad version field %q", parts[2])
	}
	ps := strings.Split(parts[3], ",")
	if len(ps) != 3 {
		return nil, f, malformed(f, "want m=,t=,p= parameters, got %q", parts[3])
	}
	m, okm := cutNumber(ps[0], "m=", uint64(d.lim.argonMemory))
	t, okt := cutNumber(ps[1], "t=", uint64(d.lim.argonTime))
	p, okp := cutNumber(ps[2], "p=", uint64(d.lim.argonThreads))
	if !okm || !okt || !okp || t < 1 || p < 1 || m < 8*p {
		return nil, f, malformed(f, "parameters %q missing, out of order or out of bounds (m <= %d KiB and >= 8*p, 1 <= t <= %d, 1 <= p <= %d)",
			parts[3], d.lim.argonMemory, d.lim.argonTime, d.lim.argonThreads)
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return nil, f, malformed(f, "salt: %v", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return nil, f, malformed(f, "hash: %v", err)
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return nil, f, malformed(f, "salt length %d not in [%d, %d]", len(salt), minSaltLen, maxSaltLen)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return nil, f, malformed(f, "hash length %d not in [%d, %d]", len(key), minKeyLen, maxKeyLen)
	}
	a := &argonHash{variant: variant, memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, key: key}
	s := &stored{format: f, argon: a}
	if django {
		// Django hands the password to argon2-cffi as UTF-8, unnormalised.
		s.check = func(password string) (bool, error) { return a.matches([]byte(password)), nil }
	} else {
		// latch's own format: passwords are NFKC-normalised before
		// hashing, so they must be before verifying too. Argon2 PHC
		// strings imported from systems that did not normalise still
		// verify for every password that is already in NFKC form, which
		// is what keyboards produce almost always.
		s.check = func(password string) (bool, error) {
			return a.matches([]byte(norm.NFKC.String(password))), nil
		}
	}
	return s, f, nil
}

type bcryptInput int

const (
	bcryptPlain        bcryptInput = iota // the password's bytes
	bcryptDjangoSHA256                    // lowercase hex of SHA-256(password)
)

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// decodeBcrypt checks the shape of a modular-crypt bcrypt string
// ($2b$CC$ + 22 salt + 31 hash characters) before handing it to
// x/crypto/bcrypt, which is lenient about trailing bits and length.
func (d *decoder) decodeBcrypt(encoded string, f Format, in bcryptInput) (*stored, error) {
	if len(encoded) != 60 {
		return nil, malformed(f, "length %d, want 60", len(encoded))
	}
	if encoded[0] != '$' || encoded[1] != '2' || encoded[3] != '$' || encoded[6] != '$' {
		return nil, malformed(f, "not $2x$NN$...")
	}
	switch encoded[2] {
	case 'a', 'b', 'y':
	default:
		// $2x$ marks hashes made by the broken pre-2011 crypt_blowfish,
		// which x/crypto cannot reproduce.
		return nil, fmt.Errorf("%w: %s: variant $2%c$ not supported", ErrUnknownFormat, f, encoded[2])
	}
	cost, ok := parseDecimal(encoded[4:6], uint64(d.lim.bcryptCost))
	if encoded[4] == '0' {
		// bcrypt always writes two digits ("04"); parseDecimal refuses
		// the leading zero, so read the second digit alone.
		cost, ok = parseDecimal(encoded[5:6], uint64(d.lim.bcryptCost))
	}
	if !ok || cost < uint64(bcrypt.MinCost) {
		return nil, malformed(f, "cost %q not in [%d, %d]", encoded[4:6], bcrypt.MinCost, d.lim.bcryptCost)
	}
	for i := 7; i < 60; i++ {
		if strings.IndexByte(bcryptAlphabet, encoded[i]) < 0 {
			return nil, malformed(f, "character %q outside bcrypt's alphabet", encoded[i])
		}
	}
	// The salt is 16 bytes in 22 characters: the last one carries only
	// two significant bits. Any other value is not something bcrypt
	// wrote, yet x/crypto would ignore the extra bits and accept it.
	if strings.IndexByte(bcryptAlphabet, encoded[28])%16 != 0 {
		return nil, malformed(f, "non-canonical salt")
	}
	h := []byte(encoded)
	s := &stored{format: f}
	s.check = func(password string) (bool, error) {
		pw := []byte(password)
		if in == bcryptDjangoSHA256 {
			sum := sha256.Sum256(pw)
			pw = []byte(hex.EncodeToString(sum[:]))
		}
		// bcrypt reads at most 72 bytes of its input: the stored hash of
		// a longer password says nothing about the bytes after the 72nd,
		// and x/crypto (like Python's bcrypt that made most imported
		// hashes) ignores them. Some bcrypt libraries refuse such input
		// instead (x/crypto's GenerateFromPassword does); if
		// CompareHashAndPassword ever does, that is a non-match, never an
		// error. Either way the upgrade to argon2id at the first
		// successful login ends the 72-byte limit for that account.
		switch err := bcrypt.CompareHashAndPassword(h, pw); {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
			return false, nil
		default:
			return false, malformed(f, "%v", err)
		}
	}
	return s, nil
}

// pbkdf2Hashes are the hashlib names werkzeug's pbkdf2 method may carry
// that Go's standard library implements.
var pbkdf2Hashes = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// decodeWerkzeugPBKDF2 parses pbkdf2[:HASH[:ITER]]$salt$hex. werkzeug
// derives a key of the hash's size from the salt string's UTF-8 bytes and
// compares lowercase hex.
func (d *decoder) decodeWerkzeugPBKDF2(encoded string) (*stored, error) {
	const f = FormatWerkzeugPBKDF2
	method, salt, want, err := splitWerkzeug(encoded, f)
	if err != nil {
		return nil, err
	}
	args := strings.Split(method, ":")[1:]
	name, iter := "sha256", d.werkzeugIter
	switch len(args) {
	case 0:
	case 1:
		name = args[0]
	case 2:
		name = args[0]
		n, ok := parseDecimal(args[1], uint64(d.lim.pbkdf2Iter))
		if !ok || n < 1 {
			return nil, malformed(f, "iterations %q not in [1, %d]", args[1], d.lim.pbkdf2Iter)
		}
		iter = int(n)
	default:
		return nil, malformed(f, "method %q has too many arguments", method)
	}
	newHash, ok := pbkdf2Hashes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s: hash %q not supported", ErrUnknownFormat, f, name)
	}
	if iter < 1 || iter > d.lim.pbkdf2Iter {
		return nil, malformed(f, "iterations %d not in [1, %d]", iter, d.lim.pbkdf2Iter)
	}
	if len(want) != newHash().Size() {
		return nil, malformed(f, "hash is %d bytes, %s gives %d", len(want), name, newHash().Size())
	}
	return &stored{format: f, check: func(password string) (bool, error) {
		got, err := pbkdf2.Key(newHash, password, []byte(salt), iter, len(want))
		if err != nil {
			return false, malformed(f, "pbkdf2: %v", err)
		}
		return subtle.ConstantTimeCompare(got, want) == 1, nil
	}}, nil
}

// werkzeugScryptKeyLen is hashlib.scrypt's default dklen, which werkzeug
// uses.
const werkzeugScryptKeyLen = 64

// decodeWerkzeugScrypt parses scrypt[:N:r:p]$salt$hex.
func (d *decoder) decodeWerkzeugScrypt(encoded string) (*stored, error) {
	const f = FormatWerkzeugScrypt
	method, salt, want, err := splitWerkzeug(encoded, f)
	if err != nil {
		return nil, err
	}
	n, r, p := uint64(1<<15), uint64(8), uint64(1) // werkzeug's default for bare "scrypt"
	if args := strings.Split(method, ":")[1:]; len(args) != 0 {
		if len(args) != 3 {
			return nil, malformed(f, "method %q: want scrypt:N:r:p", method)
		}
		var okN, okR, okP bool
		n, okN = parseDecimal(args[0], uint64(d.lim.scryptN))
		r, okR = parseDecimal(args[1], uint64(d.lim.scryptR))
		p, okP = parseDecimal(args[2], uint64(d.lim.scryptP))
		if !okN || !okR || !okP {
			return nil, malformed(f, "parameters %q out of bounds (N <= %d, r <= %d, p <= %d)",
				method, d.lim.scryptN, d.lim.scryptR, d.lim.scryptP)
		}
	}
	switch {
	case n < 2 || n&(n-1) != 0:
		return nil, malformed(f, "N=%d is not a power of two above 1", n)
	case r < 1 || p < 1:
		return nil, malformed(f, "r=%d, p=%d must be at least 1", r, p)
	case 128*n*r*p > uint64(d.lim.scryptMem):
		return nil, malformed(f, "128*N*r*p = %d bytes, above %d", 128*n*r*p, d.lim.scryptMem)
	}
	if len(want) != werkzeugScryptKeyLen {
		return nil, malformed(f, "hash is %d bytes, want %d", len(want), werkzeugScryptKeyLen)
	}
	return &stored{format: f, check: func(password string) (bool, error) {
		got, err := scrypt.Key([]byte(password), []byte(salt), int(n), int(r), int(p), len(want))
		if err != nil {
			return false, malformed(f, "scrypt: %v", err)
		}
		return subtle.ConstantTimeCompare(got, want) == 1, nil
	}}, nil
}

// splitWerkzeug splits method$salt$hex and decodes the lowercase hex that
// werkzeug writes (it compares hex strings, so upper case never matched
// there either).
func splitWerkzeug(encoded string, f Format) (method, salt string, want []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 3 {
		return "", "", nil, malformed(f, "want method$salt$hash, got %d fields", len(parts))
	}
	method, salt = parts[0], parts[1]
	if salt == "" {
		return "", "", nil, malformed(f, "empty salt")
	}
	if !isLowerHex(parts[2]) {
		return "", "", nil, malformed(f, "hash is not lowercase hex")
	}
	want, err = hex.DecodeString(parts[2])
	if err != nil {
		return "", "", nil, malformed(f, "hash: %v", err)
	}
	return method, salt, want, nil
}

// decodeDjangoPBKDF2 parses pbkdf2_HASH$ITER$salt$base64 (padded standard
// base64, key length = hash size).
func (d *decoder) decodeDjangoPBKDF2(encoded string, f Format, newHash func() hash.Hash) (*stored, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 {
		return nil, malformed(f, "want algorithm$iterations$salt$hash, got %d fields", len(parts))
	}
	iter, ok := parseDecimal(parts[1], uint64(d.lim.pbkdf2Iter))
	if !ok || iter < 1 {
		return nil, malformed(f, "iterations %q not in [1, %d]", parts[1], d.lim.pbkdf2Iter)
	}
	salt := parts[2]
	if salt == "" {
		return nil, malformed(f, "empty salt")
	}
	want, err := base64.StdEncoding.Strict().DecodeString(parts[3])
	if err != nil {
		return nil, malformed(f, "hash: %v", err)
	}
	if len(want) != newHash().Size() {
		return nil, malformed(f, "hash is %d bytes, want %d", len(want), newHash().Size())
	}
	return &stored{format: f, check: func(password string) (bool, error) {
		got, err := pbkdf2.Key(newHash, password, []byte(salt), int(iter), len(want))
		if err != nil {
			return false, malformed(f, "pbkdf2: %v", err)
		}
		return subtle.ConstantTimeCompare(got, want) == 1, nil
	}}, nil
}

// cutNumber reads "name=decimal" with the decimal at most max.
func cutNumber(s, prefix string, max uint64) (uint64, bool) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	return parseDecimal(v, max)
}

// parseDecimal reads a canonical decimal (digits only, no sign, no
// leading zero) no larger than max. Being strict keeps each hash to one
// spelling and keeps huge numbers from overflowing anything.
func parseDecimal(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') || !isDecimal(s) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n, n <= max
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}
