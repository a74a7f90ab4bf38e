package server

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// graphiqlFiles holds the GraphiQL page and its assets (GraphiQL 3, React
// 18, their licences and our setup.js): a provincial intranet may not reach
// a CDN. See graphiql/README.md for versions and how to refresh them.
//
//go:embed graphiql/index.html graphiql/assets
var graphiqlFiles embed.FS

// graphiqlCSP lets the GraphiQL page run its own scripts (no inline script,
// no eval), its inline styles and data: fonts, and talk to this origin only
// (HTTP and WebSocket).
const graphiqlCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

type embeddedFile struct {
	body        []byte
	etag        string
	contentType string
}

var loadGraphiQL = sync.OnceValues(func() (map[string]embeddedFile, error) {
	files := map[string]embeddedFile{}
	err := fs.WalkDir(graphiqlFiles, "graphiql", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := graphiqlFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[strings.TrimPrefix(p, "graphiql/")] = embeddedFile{
			body:        b,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: contentTypeFor(p),
		}
		return nil
	})
	return files, err
})

func contentTypeFor(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	return "text/plain; charset=utf-8" // LICENSE.*
}

// mountGraphiQL serves the page at / and /graphiql and its assets under
// /graphiql/assets/.
func (s *Server) mountGraphiQL() {
	files, err := loadGraphiQL()
	if err != nil {
		panic("server: embedded GraphiQL files: " + err.Error())
	}
	page := files["index.html"]
	servePage := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", graphiqlCSP)
		w.Header().Set("Cache-Control", "no-cache")
		serveEmbedded(w, r, page)
	}
	s.mux.HandleFunc("GET /{$}", servePage)
	s.mux.HandleFunc("GET /graphiql", servePage)
	s.mux.HandleFunc("GET /graphiql/{$}", servePage)
	s.mux.HandleFunc("GET /graphiql/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files["assets/"+r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		serveEmbedded(w, r, f)
	})
}

func serveEmbedded(w http.ResponseWriter, r *http.Request, f embeddedFile) {
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(f.body)))
}
