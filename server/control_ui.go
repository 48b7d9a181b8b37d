package server

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/gorilla/mux"
)

// UIPath is the delivery inspector, a page over the control API.
const UIPath = ControlPrefix + "/ui"

// uiFiles are served as they are: plain HTML, CSS and JavaScript, so users
// need no build step and the binary carries the whole inspector.
//
//go:embed ui
var uiFiles embed.FS

// registerUIRoutes serves the inspector. The files are open even with an
// admin token (they hold no state); the page sends the token it is given
// on each control API call.
func (s *controlAPI) registerUIRoutes(r *mux.Router) {
	r.Handle(UIPath, recoverer(s.log, http.HandlerFunc(serveUIFile("index.html")))).Methods(http.MethodGet)
	r.Handle(UIPath+"/{file}", recoverer(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveUIFile(mux.Vars(r)["file"])(w, r)
	}))).Methods(http.MethodGet)
}

func serveUIFile(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(uiFiles, "ui/"+name)
		if err != nil {
			writeError(w, Errorf(CodeNotFound, "no such file in the inspector: %s", name).With("path", r.URL.Path))
			return
		}
		h := w.Header()
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			h.Set("Content-Type", ct)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}
