package latch_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latchgo/latch"
)

// TestRefreshMessageLocalizedIntoSession: a stale login has a session, so
// the refresh message goes into it — localized for the redirected request
// — and the area's login view is the refresh target when no RefreshView
// is set.
func TestRefreshMessageLocalizedIntoSession(t *testing.T) {
	h := newHarness(t, func(m *latch.Manager[*testUser]) {
		m.Login.Areas = map[string]string{"/set": "/area-login", "/settingsx": "/longer"}
		m.Login.Localize = func(r *http.Request, key, message string) string {
			return key + ":" + r.Header.Get("Accept-Language") + ":" + message
		}
	})
	b := h.browser()
	b.do("POST", "/login/alice?fresh=0")
	res, _ := b.do("GET", "/settings", "Accept-Language", "fr")
	if loc := res.Header.Get("Location"); loc != "/area-login?next=%2Fsettings" {
		t.Fatalf("Location %q", loc)
	}
	if _, body := b.do("GET", "/flashes"); !strings.Contains(body, "refresh:fr:Please reauthenticate") {
		t.Fatalf("flashes %q", body)
	}
}

// TestRememberedEndsWithConfirm: entering the password ends "remembered".
func TestRememberedEndsWithConfirm(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/remembered", func(w http.ResponseWriter, r *http.Request) {
		if h.m.Remembered(r) {
			w.Write([]byte("yes"))
		} else {
			w.Write([]byte("no"))
		}
	})
	mux.Handle("/", h.srv.Config.Handler)
	h.srv.Config.Handler = h.m.Handler(mux)
	b := h.browser()
	b.do("POST", "/login/alice?remember=1")
	b.restart()
	if _, body := b.do("GET", "/remembered"); body != "yes" {
		t.Fatalf("after a restore: %q", body)
	}
	b.do("POST", "/confirm")
	if _, body := b.do("GET", "/remembered"); body != "no" {
		t.Fatalf("after ConfirmLogin: %q", body)
	}
}
