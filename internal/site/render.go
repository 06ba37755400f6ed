package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/latchgo/latch"
	"github.com/latchgo/latch/account"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the page templates, each parsed together with the layout.
var pageNames = []string{"index", "signup", "login", "reauth", "logout", "profile", "error"}

// Templates holds the parsed pages. Parsing happens once, at start-up, and
// fails fast if a template is missing or broken.
type templates map[string]*template.Template

func parseTemplates() (templates, error) {
	t := templates{}
	for _, name := range pageNames {
		tpl, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		t[name] = tpl
	}
	return t, nil
}

// view is what every page template receives.
type view struct {
	Title   string
	User    *account.User
	Flashes []latch.Flash

	// Forms: the values entered (never the password) and one message per
	// field, plus "form" for a message about the whole form.
	Form        map[string]string
	Errors      map[string]string
	Next        string
	MinPassword int

	// Profile page.
	Profile *account.User
	Own     bool

	// Error page.
	Status  int
	Heading string
	Message string
}

// render writes a page with the given status. The page is rendered into a
// buffer first, so a template error becomes a clean error page rather than
// half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if u, ok := s.auth.CurrentUser(r); ok {
		v.User = u
	}
	if flashes, err := s.auth.Flashes(w, r); err == nil {
		v.Flashes = flashes
	} else {
		s.log(r).Error("read flash messages", "err", err)
	}
	s.renderPlain(w, r, status, name, v)
}

// renderPlain renders without reading the session.
func (s *Site) renderPlain(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	v.MinPassword = s.accounts.Policy.MinLength
	var buf bytes.Buffer
	if err := s.tpl[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log(r).Error("render template", "template", name, "err", err)
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// staticFiles is the embedded static directory.
func staticFiles() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
