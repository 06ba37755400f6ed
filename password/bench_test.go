package password_test

import (
	"context"
	"testing"

	"github.com/latchgo/latch/password"
)

// The benchmarks use DefaultParams, so ns/op is the real cost of one
// login on this machine, and BenchmarkVerifyParallel's ns/op gives the
// machine's aggregate argon2id rate (1e9 / ns/op hashes per second) with
// MaxConcurrent = GOMAXPROCS.

func BenchmarkHash(b *testing.B) {
	h := password.NewHasher(password.DefaultParams)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := password.NewHasher(password.DefaultParams)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", encoded); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	h := password.NewHasher(password.DefaultParams)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(ctx, "correct horse battery staple", encoded); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}

func BenchmarkPolicyCheck(b *testing.B) {
	ctxWords := []string{"alice", "alice@example.org", "latch"}
	_ = password.DefaultPolicy.Check("warm up the list", ctxWords...)
	b.ReportAllocs()
	for b.Loop() {
		_ = password.DefaultPolicy.Check("correct horse battery staple", ctxWords...)
	}
}
