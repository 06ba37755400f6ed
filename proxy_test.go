package latch_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/latchgo/latch"
)

func TestTrustedProxies(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies trusted ignores the header", nil, "203.0.113.9:5555", []string{"1.2.3.4"}, "203.0.113.9"},
		{"untrusted peer cannot forge", []netip.Prefix{proxy}, "203.0.113.9:5555", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed leftmost entries are skipped", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"198.51.100.7, 10.0.0.3", "10.0.0.4"}, "198.51.100.7"},
		{"garbage hop", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"<script>, 10.0.0.3"}, "10.0.0.3"},
		{"all trusted", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"10.0.0.3"}, "10.0.0.3"},
		{"no header", []netip.Prefix{proxy}, "10.0.0.2:5555", nil, "10.0.0.2"},
		{"ipv4-mapped", []netip.Prefix{proxy}, "[::ffff:10.0.0.2]:5555", []string{"198.51.100.7"}, "198.51.100.7"},
		{"ipv6 client", []netip.Prefix{proxy}, "10.0.0.2:5555", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := latch.TrustedProxies(tt.trusted...)(r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
