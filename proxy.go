package latch

import (
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies returns a ClientIP function for a site behind reverse
// proxies. A client can put anything in X-Forwarded-For, so the header is
// only believed for hops that arrive from one of the trusted networks: it
// walks the chain from the connection's peer backwards and returns the
// first address that is not a trusted proxy. With no trusted networks it
// is RemoteIP.
//
// This is what rate limiting and session protection key on, so getting it
// wrong lets an attacker rotate X-Forwarded-For to escape limits (ASVS
// 4.1.3, 15.3.4).
func TrustedProxies(trusted ...netip.Prefix) func(*http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer, err := netip.ParseAddr(RemoteIP(r))
		if err != nil {
			return RemoteIP(r)
		}
		if len(trusted) == 0 || !isTrusted(peer) {
			return peer.Unmap().String()
		}
		client := peer
		hops := r.Header.Values("X-Forwarded-For")
		for i := len(hops) - 1; i >= 0; i-- {
			parts := strings.Split(hops[i], ",")
			for j := len(parts) - 1; j >= 0; j-- {
				a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
				if err != nil {
					// A malformed hop ends what can be believed: the last
					// trusted proxy's peer is the best answer.
					return client.Unmap().String()
				}
				client = a
				if !isTrusted(a) {
					return a.Unmap().String()
				}
			}
		}
		return client.Unmap().String()
	}
}
