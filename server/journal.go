package server

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bullseye-mock/bullseye-mock/journal"
)

// isAPIPath reports whether a path is under the Partner API's prefix.
func isAPIPath(p string) bool {
	return p == APIPrefix || strings.HasPrefix(p, APIPrefix+"/")
}

// recorder is the response writer of a journaled request: it passes
// everything through and keeps the status and the start of the body. The
// guard notes on it who the caller was and which fault answered.
type recorder struct {
	http.ResponseWriter
	status    int
	body      []byte
	bytes     int64
	partnerID string
	fault     string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := journal.MaxBody - len(w.body); room > 0 {
		w.body = append(w.body, b[:min(room, len(b))]...)
	}
	w.bytes += int64(len(b))
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (a fault that
// closes it hijacks it).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// teeBody keeps the start of a request body as the handler reads it.
type teeBody struct {
	io.ReadCloser
	kept []byte
	n    int64
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := journal.MaxBody - len(t.kept); room > 0 && n > 0 {
		t.kept = append(t.kept, p[:min(room, n)]...)
	}
	t.n += int64(n)
	return n, err
}

// journaled serves a Partner API request through next and records it in
// the journal, whatever the answer (a 401, a 429, a fault, a panic).
func (s *partnerAPI) journaled(w http.ResponseWriter, r *http.Request, next http.Handler) {
	start := time.Now()
	at := s.clock.Now()
	j := &struct { // one allocation for both
		recorder
		teeBody
	}{recorder{ResponseWriter: w}, teeBody{ReadCloser: http.NoBody}}
	rec, tee := &j.recorder, &j.teeBody
	if body := r.Body; body != nil && body != http.NoBody {
		tee.ReadCloser = body
		r.Body = tee
		defer func() { r.Body = body }() // a request used again is not wrapped twice
	}
	defer func() {
		v := recover() // an aborted answer (a closed connection) is journaled too
		if rest := journal.MaxBody - len(tee.kept); rest > 0 && v == nil && tee.ReadCloser != http.NoBody && r.Header.Get("Expect") == "" {
			// What the handler did not read was still received. (A client
			// that sent Expect: 100-continue waits for the answer before it
			// sends the body, and the answer is still buffered: no drain.)
			_, _ = io.CopyN(io.Discard, tee, int64(rest)+1)
		}
		size := max(tee.n, r.ContentLength)
		e := journal.Entry{
			Time: at, RealTime: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Headers: r.Header, PartnerID: rec.partnerID,
			BodyBytes: size, BodyTruncated: size > int64(len(tee.kept)),
			Status: rec.status, Response: string(rec.body), ResponseBytes: rec.bytes,
			RespTruncated: rec.bytes > int64(len(rec.body)),
			LatencyMs:     float64(time.Since(start).Microseconds()) / 1000, Fault: rec.fault,
		}
		if v != nil {
			e.Status = 0
		}
		e.Body, e.BodyEncoding = text(tee.kept, e.BodyTruncated)
		s.ops.RecordRequest(e)
		if v != nil {
			panic(v)
		}
	}()
	next.ServeHTTP(rec, r)
}

// text is a kept body as a JSON string: as it is when it is UTF-8 (a
// truncated one cut inside a character loses that character), else base64.
func text(b []byte, truncated bool) (string, string) {
	t := b
	for i := 0; truncated && i < utf8.UTFMax-1 && len(t) > 0 && !utf8.Valid(t); i++ {
		t = t[:len(t)-1]
	}
	if utf8.Valid(t) {
		return string(t), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64" // every byte kept
}
