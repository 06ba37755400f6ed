package password

import (
	"fmt"
)

// MaxBytes is the longest password, in bytes before normalisation, that
// Hash, Verify, DummyVerify and Policy.Check accept. Longer input is
// refused with ErrTooLong before any work is done. 4096 bytes leaves room
// for the 1024 code points of DefaultPolicy even in four-byte characters,
// far beyond any passphrase a person types or a password manager makes,
// while keeping the cost of normalising and hashing a hostile input small.
const MaxBytes = 4096

// Params are the argon2id parameters of new hashes. They are written into
// every hash (PHC string format), so changing them later does not break
// existing hashes: Verify reports needsRehash for hashes made with other
// parameters and the application re-hashes at the next successful login.
type Params struct {
	Memory  uint32 // memory in KiB (m)
	Time    uint32 // passes over the memory (t)
	Threads uint8  // lanes (p)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams are OWASP's minimum argon2id parameters (Password Storage
// Cheat Sheet: m=19 MiB, t=2, p=1), a 128-bit salt and a 256-bit key. One
// hash costs 19 MiB of memory for its duration, which is why the Hasher
// bounds how many run at once.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds that apply both to Params and to argon2 parameters read from
// stored hashes. A stored hash is data, possibly corrupted or planted;
// without bounds one row could make a single login allocate gigabytes or
// run for minutes.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 64
	maxArgonThreads = 64
	minSaltLen      = 8 // RFC 9106 minimum; NIST asks at least 32 bits
	maxSaltLen      = 128
	minKeyLen       = 16
	maxKeyLen       = 128
)

// Validate reports whether p can be used for new hashes. It checks that
// the parameters are well formed and within the bounds Verify accepts for
// stored hashes (so every hash made can be verified again); it does not
// insist on DefaultParams' strength, because tests legitimately use tiny
// parameters. Production code should use DefaultParams or stronger.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("%w: time %d not in [1, %d]", ErrInvalidParams, p.Time, maxArgonTime)
	case p.Threads < 1 || p.Threads > maxArgonThreads:
		return fmt.Errorf("%w: threads %d not in [1, %d]", ErrInvalidParams, p.Threads, maxArgonThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		// Argon2 needs at least 8 KiB per lane.
		return fmt.Errorf("%w: memory %d KiB not in [8*threads, %d]", ErrInvalidParams, p.Memory, maxArgonMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d not in [%d, %d]", ErrInvalidParams, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length %d not in [%d, %d]", ErrInvalidParams, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
