package site_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDevicesInWords: devices and activity name the browser in words
// ("Chrome 131 on Android"), with the raw User-Agent kept in a details
// element; "Log out everywhere else" shows only when there is somewhere
// else.
func TestDevicesInWords(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteOptions{})
	c := s.signedUp("ann")
	devices := c.get("/account/devices")
	if strings.Contains(devices.body, "revoke-others") {
		t.Error("Log out everywhere else offered with one device")
	}
	mustContain(t, devices.body, "This is your only device.")

	const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36"
	phone := s.browser()
	r := phone.do(http.MethodPost, "/login", url.Values{"email": {"ann@example.com"}, "password": {pw}}, "User-Agent", android)
	if r.StatusCode != 303 {
		t.Fatalf("login from the phone: %d", r.StatusCode)
	}
	devices = c.get("/account/devices")
	mustContain(t, devices.body, "<summary>Chrome 131 on Android</summary>", "<code>"+strings.ReplaceAll(android, ";", ";")+"</code>", "revoke-others")
	mustContain(t, c.get("/account").body, "<summary>Chrome 131 on Android</summary>")
}
