package password

// Test-only access to internals; this file is compiled only by go test.

// SetComputeHook makes h call fn inside each admitted slot, before the
// hash is computed, so tests can hold slots and count concurrency. Call it
// before h's first use.
func SetComputeHook(h *Hasher, fn func()) { h.computeHook = fn }

// UseTinyLimits lowers the bounds h accepts for stored hashes so that a
// fuzzer mutating real hashes into costlier ones stays fast. Call it
// before h's first use.
func UseTinyLimits(h *Hasher) {
	h.testLimits = &limits{
		argonMemory:  256,
		argonTime:    4,
		argonThreads: 4,
		pbkdf2Iter:   2000,
		scryptN:      1024,
		scryptR:      8,
		scryptP:      2,
		scryptMem:    1 << 21,
		bcryptCost:   5,
	}
}
