package v1http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// normKey normalises a v1 key: a leading "/" is added, repeated "/"
// collapse, a trailing "/" is dropped and reported (it asks for a listing).
// The root is "/".
func normKey(p string) (key string, trailing bool) {
	var b strings.Builder
	b.WriteByte('/')
	for _, part := range strings.Split(p, "/") {
		if part == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte('/')
		}
		b.WriteString(part)
	}
	return b.String(), strings.HasSuffix(p, "/")
}

// childPrefix is the prefix every key under the directory key has.
func childPrefix(key string) string {
	if key == "/" {
		return "/"
	}
	return key + "/"
}

// ancestors lists the proper ancestors of key, root excluded: "/a/b/c"
// gives "/a", "/a/b".
func ancestors(key string) []string {
	var as []string
	for i := 1; i < len(key); i++ {
		if key[i] == '/' {
			as = append(as, key[:i])
		}
	}
	return as
}

// prefixEnd is the end of the range of keys with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

// parseForm reads the query string and a form body of at most
// MaxRequestBytes; a larger body is answered 413 and reported false.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.MaxRequestBytes > 0 && r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, int64(h.cfg.MaxRequestBytes))
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return false
	}
	return true
}

// formInt parses the non-negative integer parameter name; absent or empty
// is 0. A bad value is the v1 error code with the value as its cause.
func (h *Handler) formInt(r *http.Request, name string, code int) (int64, error) {
	s := r.Form.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, h.newError(code, s)
	}
	return n, nil
}
