package memstore_test

import (
	"testing"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/memstore"
	"github.com/latchgo/latch/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Sessions(t, func(*testing.T) latch.SessionStore { return memstore.New() })
	storetest.Remember(t, func(*testing.T) latch.RememberStore { return memstore.New() })
}

func TestRevocation(t *testing.T) {
	storetest.Revocation(t, func(*testing.T) latch.Store { return memstore.New() })
}
