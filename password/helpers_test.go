package password_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchgo/latch/password"
)

// testParams are far below DefaultParams so that tests run fast; they
// are valid argon2id parameters all the same.
var testParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// vector is one entry of testdata/legacy-hashes.json or
// testdata/extra-hashes.json: a hash made by the real software.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Wrong    bool   `json:"wrong"`
}

func loadVectors(tb testing.TB, name string) []vector {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Hashes []vector `json:"hashes"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if len(file.Hashes) == 0 {
		tb.Fatalf("%s: no hashes", name)
	}
	return file.Hashes
}

// patientHasher is a Hasher for tests that verify many (slow, legacy)
// hashes at once: its queue and wait are unbounded for practical
// purposes, so the admission control, which has tests of its own, never
// turns a verification away on a busy machine.
func patientHasher(p password.Params) *password.Hasher {
	h := password.NewHasher(p)
	h.MaxQueue = 1 << 16
	h.MaxWait = time.Hour
	return h
}
