// Package clip bounds text that clients send and servers keep (User-Agent
// headers, IP strings, audit details).
package clip

import "strings"

// Text returns s as valid UTF-8 (invalid bytes become U+FFFD), cut to at
// most n bytes on a rune boundary, so a client can neither make the server
// store kilobytes per record nor break a store that keeps text.
func Text(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
