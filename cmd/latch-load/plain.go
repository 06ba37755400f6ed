package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"os"
	"time"
)

// The plain Go page of the comparison: the profile page's markup, as the
// latch site sends it to a logged-in visitor, rendered by html/template
// from users held in a map, with no session, no cookie and no database —
// what a page costs net/http and html/template alone.
var plainPage = template.Must(template.New("profile").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.User.Username}} · latch</title>
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/lock.svg" type="image/svg+xml">
</head>
<body>
<header class="top">
  <nav aria-label="Main">
    <a class="brand" href="/">latch</a>
    <ul>
      <li><a href="/user/{{.Viewer}}">{{.Viewer}}</a></li>
      <li><a href="/account">Account</a></li>
      <li><form method="post" action="/logout"><button class="link" type="submit">Log out</button></form></li>
    </ul>
  </nav>
</header>
<main>

<article class="profile card">
  <h1>{{.User.Username}}</h1>
  <dl>
    <dt>Member since</dt>
    <dd><time datetime="{{.User.Created.Format "2006-01-02"}}">{{.User.Created.Format "January 2, 2006"}}</time></dd>
  </dl>
</article>

</main>
<footer class="bottom">
  <p>latch — a login manager for Go. <a href="/healthz">Status</a></p>
</footer>
</body>
</html>
`))

// plainUser is one user of the plain page.
type plainUser struct {
	Username string    `json:"username"`
	Created  time.Time `json:"created"`
}

// plainHandler serves GET /user/{name} from users, as viewer, and
// /healthz.
func plainHandler(users map[string]plainUser, viewer string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{name}", func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := plainPage.Execute(w, struct {
			User   plainUser
			Viewer string
		}{u, viewer}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// servePlain is latch-load -serve-plain: the plain page server, run as a
// process of its own like the latch servers it is compared with.
func servePlain(usersFile, viewer string) error {
	b, err := os.ReadFile(usersFile)
	if err != nil {
		return err
	}
	var list []plainUser
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("%s: %w", usersFile, err)
	}
	users := make(map[string]plainUser, len(list))
	for _, u := range list {
		users[u.Username] = u
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("latch-load plain page: serving on http://%s\n", ln.Addr())
	return http.Serve(ln, plainHandler(users, viewer))
}
