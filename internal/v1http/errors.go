package v1http

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error codes of the v1 API.
const (
	ecodeKeyNotFound    = 100
	ecodeTestFailed     = 101
	ecodeNotFile        = 102
	ecodeNotDir         = 104
	ecodeValueRequired  = 200
	ecodePrevValueReq   = 201
	ecodeTTLNaN         = 202
	ecodeIndexNaN       = 203
	ecodeEventIndexGone = 401
	ecodeRaftInternal   = 300
	ecodeLeaderElect    = 301
)

var errMessages = map[int]string{
	ecodeKeyNotFound:    "Key Not Found",
	ecodeTestFailed:     "The given PrevValue is not equal to the value of the key",
	ecodeNotFile:        "Not A File",
	ecodeNotDir:         "Not A Directory",
	ecodeValueRequired:  "Value is Required in POST form",
	ecodePrevValueReq:   "PrevValue is Required in POST form",
	ecodeTTLNaN:         "The given TTL in POST form is not a number",
	ecodeIndexNaN:       "The given index in POST form is not a number",
	ecodeEventIndexGone: "The event in requested index is outdated and cleared",
	ecodeRaftInternal:   "Raft Internal Error",
	ecodeLeaderElect:    "During Leader Election",
}

var errStatus = map[int]int{
	ecodeKeyNotFound:  http.StatusNotFound,
	ecodeRaftInternal: http.StatusInternalServerError,
	ecodeLeaderElect:  http.StatusServiceUnavailable,
}

// Error is a v1 error answer.
type Error struct {
	ErrorCode int    `json:"errorCode"`
	Message   string `json:"message"`
	Cause     string `json:"cause,omitempty"`
	Index     int64  `json:"index"`
}

// Error implements error.
func (e *Error) Error() string { return e.Message + " (" + e.Cause + ")" }

// status is the HTTP status of e.
func (e *Error) status() int {
	if s, ok := errStatus[e.ErrorCode]; ok {
		return s
	}
	return http.StatusBadRequest
}

// newError makes the error of code at the store's current revision.
func (h *Handler) newError(code int, cause string) *Error {
	return &Error{ErrorCode: code, Message: errMessages[code], Cause: cause, Index: h.srv.Header().GetRevision()}
}

// writeError answers err: a v1 Error as it is, a request too large as 413,
// the member's unavailability (no leader, timeout) as 301 and anything
// else as 300.
func (h *Handler) writeError(w http.ResponseWriter, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, rpctypes.ErrGRPCRequestTooLarge):
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	case status.Code(err) == codes.Unavailable || status.Code(err) == codes.DeadlineExceeded ||
		errors.Is(err, rpctypes.ErrGRPCNotLeader):
		e = h.newError(ecodeLeaderElect, err.Error())
	default:
		e = h.newError(ecodeRaftInternal, err.Error())
	}
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	w.Write(b)
}
