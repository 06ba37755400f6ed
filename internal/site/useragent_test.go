package site

import "testing"

func TestDescribeUA(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/AP2A.240805.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36": "Chrome 131 on Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":                               "Safari 18 on macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                                    "Firefox 133 on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1":             "Safari 18 on iOS",
		"":                   "Unknown browser",
		"Go-http-client/1.1": "A program, not a browser",
		"curl/8.5.0":         "A program, not a browser",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "A program, not a browser",
		"\x00\xff<script>": "Unknown browser",
	} {
		if got := describeUA(ua); got != want {
			t.Errorf("describeUA(%q) = %q, want %q", ua, got, want)
		}
	}
}

func FuzzDescribeUA(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	f.Add("")
	f.Fuzz(func(t *testing.T, ua string) {
		if describeUA(ua) == "" {
			t.Fatalf("describeUA(%q) is empty", ua)
		}
	})
}
