package main

import (
	"bytes"
	"html/template"
	"log"
	"net/http"
)

// The shop's pages: plain HTML, escaped by html/template.
var pages = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} · Shop</title></head><body>
<nav><a href="/">Shop</a>
{{if .User}} · <a href="/orders">Orders</a> · <a href="/account">Account</a> · {{.User.Email}}
<form method="post" action="/logout" style="display:inline"><button>Log out</button></form>
{{else}} · <a href="/login">Log in</a>{{end}}</nav>
{{range .Flashes}}<p class="{{.Category}}">{{.Message}}</p>{{end}}
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>{{end}}
{{if eq .Form "login"}}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Email <input type="email" name="email" value="{{.Email}}" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<label><input type="checkbox" name="remember" value="1"> Remember me</label>
<button>Log in</button>
</form>
{{else if eq .Form "confirm"}}
<form method="post" action="/confirm">
<input type="hidden" name="next" value="{{.Next}}">
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button>Confirm</button>
</form>
{{end}}
</body></html>`))

type view struct {
	Title, Form, Next, Email, Error string
	User                            *User
	Flashes                         any
	Lines                           []string
}

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "Welcome", []string{"Our shop sells everything."})
}

func (s *Shop) loginForm(w http.ResponseWriter, r *http.Request) {
	s.form(w, r, http.StatusOK, "")
}

func (s *Shop) confirmForm(w http.ResponseWriter, r *http.Request) {
	s.form(w, r, http.StatusOK, "")
}

// form shows the login form, or the confirmation form to a logged-in
// user, with an error message; the page to return to and the email are
// kept, never the password.
func (s *Shop) form(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := view{Title: "Log in", Form: "login", Next: s.m.Next(r), Email: r.PostFormValue("email"), Error: msg}
	if _, ok := s.m.CurrentUser(r); ok && r.URL.Path == "/confirm" {
		v.Title, v.Form = "Confirm your password", "confirm"
	}
	s.render(w, r, status, v)
}

func (s *Shop) page(w http.ResponseWriter, r *http.Request, status int, title string, lines []string) {
	s.render(w, r, status, view{Title: title, Lines: lines})
}

func (s *Shop) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	v.User, _ = s.m.CurrentUser(r)
	flashes, err := s.m.Flashes(w, r)
	if err != nil {
		log.Printf("shop: flashes: %v", err)
	}
	v.Flashes = flashes
	var buf bytes.Buffer
	if err := pages.Execute(&buf, v); err != nil {
		log.Printf("shop: render: %v", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}
