package latch_test

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/latchgo/latch"
)

// openRedirectPayloads are next values that some browser, proxy or server
// resolves to another origin, collected from the Gitea, Gogs, gophish,
// miniflux, Django and Flask-Security advisories and the
// PayloadsAllTheThings open-redirect list. SafeNext must refuse all of them.
var openRedirectPayloads = []string{
	"//evil.example",
	"//evil.example/",
	"///evil.example",
	"////evil.example",
	"/\\evil.example",
	"/\\/evil.example",
	"\\\\evil.example",
	"\\/evil.example",
	"/\\\\evil.example",
	"\\\\\\evil.example",
	"https://evil.example",
	"http://evil.example/path",
	"https:evil.example",
	"https:/evil.example",
	"https:///evil.example",
	"http:999999999",
	"javascript:alert(1)",
	"JaVaScRiPt:alert(1)",
	"javascript://%0aalert(1)",
	"data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)",
	" //evil.example",
	"\t//evil.example",
	"\n//evil.example",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"/ /evil.example",
	"\x00//evil.example",
	"/\x00/evil.example",
	"\x01/evil.example",
	"/%09/evil.example",
	"/%0a/evil.example",
	"/%2F/evil.example",
	"/%2f%2fevil.example",
	"/%5Cevil.example",
	"/%5cevil.example",
	"/%252F%252Fevil.example",
	"/%255Cevil.example",
	"/a/../\\evil.example",
	"/./\\evil.example",
	"/a/..//evil.example",
	"/a/%2e%2e//evil.example",
	"/a/.%2E/\\evil.example",
	"/..//evil.example",
	"/.//evil.example",
	"/\u3002evil.example",
	"/\uff0f\uff0fevil.example",
	"//evil.example@good.example",
	"http://good.example@evil.example",
	"@evil.example",
	"evil.example",
	"evil.example/path",
	"?next=//evil.example",
	"#//evil.example",
	"",
	"/" + strings.Repeat("a", latch.MaxNextLen),
}

// safeTargets are next values SafeNext must let through unchanged.
var safeTargets = []string{
	"/",
	"/user/alice",
	"/user/alice?tab=posts&x=1",
	"/search?q=%2F%2Fevil.example",
	"/path?next=//evil.example",
	"/a#section",
	"/a/b/c/",
	"/caf%C3%A9",
	"/a:b",
	"/user/bob.smith",
	"/~tilde",
}

func TestSafeNextRefusesOpenRedirects(t *testing.T) {
	for _, p := range openRedirectPayloads {
		t.Run(url.PathEscape(p), func(t *testing.T) {
			if got, ok := latch.SafeNext(p); ok || got != "" {
				t.Fatalf("SafeNext(%q) = %q, %v; want refused", p, got, ok)
			}
		})
	}
}

func TestSafeNextAcceptsLocalPaths(t *testing.T) {
	for _, p := range safeTargets {
		t.Run(url.PathEscape(p), func(t *testing.T) {
			got, ok := latch.SafeNext(p)
			if !ok || got != p {
				t.Fatalf("SafeNext(%q) = %q, %v; want it unchanged", p, got, ok)
			}
			assertSameOrigin(t, got)
		})
	}
}

func TestLoginURL(t *testing.T) {
	tests := []struct{ view, next, want string }{
		{"/login", "/user/alice", "/login?next=%2Fuser%2Falice"},
		{"/login", "/a?b=c&d=e", "/login?next=%2Fa%3Fb%3Dc%26d%3De"},
		{"/login?lang=en", "/x", "/login?lang=en&next=%2Fx"},
		{"/login", "//evil.example", "/login"},
		{"/login", "", "/login"},
		{"/reauth", "/settings", "/reauth?next=%2Fsettings"},
	}
	for _, tt := range tests {
		if got := latch.LoginURL(tt.view, tt.next); got != tt.want {
			t.Errorf("LoginURL(%q, %q) = %q, want %q", tt.view, tt.next, got, tt.want)
		}
	}
}

var testOrigin = mustParse("https://app.example:8443/some/page?x=1")

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// assertSameOrigin resolves target the way net/url does against a page of
// the site and checks that it stays on the site's origin.
func assertSameOrigin(t *testing.T, target string) {
	t.Helper()
	ref, err := url.Parse(target)
	if err != nil {
		t.Fatalf("accepted %q does not parse: %v", target, err)
	}
	got := testOrigin.ResolveReference(ref)
	if got.Scheme != testOrigin.Scheme || got.Host != testOrigin.Host || got.User != nil {
		t.Fatalf("accepted %q resolves to %s, another origin", target, got)
	}
}

// FuzzSafeNext checks SafeNext's promise on arbitrary input: whatever it
// accepts resolves to this origin, contains nothing a WHATWG parser treats
// differently from net/url (backslashes, C0 controls, whitespace), is
// returned unchanged, and is accepted again (idempotent).
func FuzzSafeNext(f *testing.F) {
	for _, p := range openRedirectPayloads {
		f.Add(p)
	}
	for _, p := range safeTargets {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := latch.SafeNext(in)
		if !ok {
			if out != "" {
				t.Fatalf("refused %q but returned %q", in, out)
			}
			return
		}
		if out != in {
			t.Fatalf("SafeNext(%q) rewrote it to %q", in, out)
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
			t.Fatalf("accepted %q, not a single-slash path", out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c <= ' ' || c >= 0x7f || c == '\\' {
				t.Fatalf("accepted %q containing byte %#x", out, c)
			}
		}
		assertSameOrigin(t, out)
		if again, ok := latch.SafeNext(out); !ok || again != out {
			t.Fatalf("not idempotent: %q", out)
		}
	})
}

// TestSafeNextAgainstWHATWG resolves every accepted target and every
// refused payload with a real WHATWG URL parser (Node's URL, the algorithm
// browsers implement), where Node is installed: what SafeNext accepts must
// stay on the origin in the browser's eyes too.
func TestSafeNextAgainstWHATWG(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the WHATWG cross-check needs it")
	}
	var accepted []string
	for _, p := range append(append([]string{}, safeTargets...), openRedirectPayloads...) {
		if out, ok := latch.SafeNext(p); ok {
			accepted = append(accepted, out)
		}
	}
	in, _ := json.Marshal(accepted)
	const script = `
const base = "https://app.example:8443/some/page?x=1";
const targets = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = targets.map(t => { const u = new URL(t, base); return u.origin; });
process.stdout.write(JSON.stringify(out));`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(string(in))
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var origins []string
	if err := json.Unmarshal(res, &origins); err != nil {
		t.Fatalf("node output %q: %v", res, err)
	}
	if len(origins) != len(accepted) {
		t.Fatalf("node resolved %d of %d targets", len(origins), len(accepted))
	}
	for i, o := range origins {
		if o != "https://app.example:8443" {
			t.Errorf("browser resolves accepted %q to origin %s", accepted[i], o)
		}
	}
	if len(accepted) != len(safeTargets) {
		t.Errorf("accepted %d targets, want exactly the %d safe ones", len(accepted), len(safeTargets))
	}
}
