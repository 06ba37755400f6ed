package site

import (
	"strings"
	"sync"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// uaParser reads browsers out of User-Agent strings, for the devices and
// activity lists. github.com/medama-io/go-useragent (MIT) is a maintained
// parser with its own data, no regular expressions and no allocation per
// parse; its trie is built once, when a list is first shown.
var uaParser = sync.OnceValue(useragent.NewParser)

// osNames spells operating systems as their makers do.
var osNames = map[agents.OS]string{agents.OSMacOS: "macOS", agents.OSChromeOS: "ChromeOS"}

// describeUA names the browser and system of a User-Agent in words —
// "Chrome 131 on Android" — or says it is unknown. The raw string stays
// available next to it.
func describeUA(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown browser"
	}
	a := uaParser().Parse(ua)
	if a.IsBot() {
		return "A program, not a browser"
	}
	name := string(a.Browser())
	if name == "" {
		name = "Unknown browser"
	} else if v := a.BrowserVersionMajor(); v != "" {
		name += " " + v
	}
	if os := a.OS(); os != "" {
		if n, ok := osNames[os]; ok {
			name += " on " + n
		} else {
			name += " on " + string(os)
		}
	}
	return name
}
