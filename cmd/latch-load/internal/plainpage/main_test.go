package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const templates = "../../../../internal/site/templates"

func TestPlainPage(t *testing.T) {
	created := time.Date(2026, 11, 27, 9, 7, 0, 0, time.UTC)
	h, err := newHandler(templates, []user{{Username: "u00001", CreatedAt: created}, {Username: "a<b", CreatedAt: created}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		contains     []string
	}{
		{"GET", "/user/u00001", 200, []string{
			"<title>u00001 · latch</title>", "<h1>u00001</h1>",
			`<time datetime="2026-11-27">November 27, 2026</time>`, `<a href="/login">Log in</a>`,
		}},
		{"GET", "/user/a%3Cb", 200, []string{"<h1>a&lt;b</h1>"}},
		{"GET", "/user/nobody", 404, nil},
		{"GET", "/user/U00001", 404, nil}, // a map: exact names only
		{"POST", "/user/u00001", 405, nil},
		{"GET", "/healthz", 200, []string{"ok"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			body := w.Body.String()
			for _, s := range tc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			if tc.status == http.StatusOK && strings.HasPrefix(tc.path, "/user/") {
				if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if strings.Contains(body, "This is your profile") || strings.Contains(body, "Log out") {
					t.Errorf("the plain page shows a logged-in user:\n%s", body)
				}
			}
		})
	}
}

func TestPlainPageMissingTemplates(t *testing.T) {
	if _, err := newHandler(t.TempDir(), nil); err == nil {
		t.Fatal("no error for a directory without the templates")
	}
}
