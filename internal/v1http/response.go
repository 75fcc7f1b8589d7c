package v1http

import (
	"encoding/json"
	"net/http"
	"time"
)

// Action names of v1 responses.
const (
	actionGet    = "GET"
	actionSet    = "SET"
	actionDelete = "DELETE"
)

// Response is one v1 answer (or one entry of a listing, or a watch
// event). Field order and omission are the 2013 API's.
type Response struct {
	Action     string     `json:"action"`
	Key        string     `json:"key"`
	Dir        bool       `json:"dir,omitempty"`
	PrevValue  string     `json:"prevValue,omitempty"`
	Value      string     `json:"value,omitempty"`
	NewKey     bool       `json:"newKey,omitempty"`
	Expiration *time.Time `json:"expiration,omitempty"`
	TTL        int64      `json:"ttl,omitempty"`
	Index      int64      `json:"index"`
}

// writeJSON answers 200 with v marshaled.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// setExpiry fills expiration and ttl from the time the key's lease runs
// out: expiration in the server's local zone, ttl in whole seconds left.
func (r *Response) setExpiry(exp time.Time) {
	exp = exp.Local()
	r.Expiration = &exp
	r.TTL = max(int64(time.Until(exp)/time.Second), 0)
}
