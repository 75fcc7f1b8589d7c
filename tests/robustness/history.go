package robustness

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// numKeys is the size of the key space: small, for contention.
const numKeys = 10

// keyPrefix is the prefix of every key the traffic writes.
const keyPrefix = "/rb/"

// keyName returns the key of index i.
func keyName(i int) string { return fmt.Sprintf("%sk%d", keyPrefix, i) }

// keyIndex is the inverse of keyName; -1 for a key outside the key space.
func keyIndex(k string) int {
	var i int
	if _, err := fmt.Sscanf(strings.TrimPrefix(k, keyPrefix), "k%d", &i); err != nil || keyName(i) != k || i >= numKeys {
		return -1
	}
	return i
}

// opKind is the kind of a client operation.
type opKind uint8

const (
	opGet         opKind = iota // linearizable range over [key, end)
	opPut                       // put, maybe with prev_kv
	opPutLease                  // put attached to a lease
	opDelete                    // delete one key
	opTxnCAS                    // if mod_revision(key) == expect then put else get
	opLeaseGrant                // grant a long lease
	opLeaseRevoke               // revoke a lease
	opStaleGet                  // serializable range (not in the linearizability check)
)

func (k opKind) String() string {
	return [...]string{"get", "put", "put-lease", "delete", "txn-cas", "lease-grant", "lease-revoke", "stale-get"}[k]
}

// request is an operation's input.
type request struct {
	Kind   opKind
	Key    int // first key
	End    int // ranges: keys [Key, End)
	Value  string
	Lease  int64
	Expect int64 // txn: expected mod revision of Key (0: absent)
	PrevKV bool
}

// kv is a key's state as the model and the responses describe it.
type kv struct {
	Key       int
	Value     string
	ModRev    int64
	CreateRev int64
	Version   int64
	Lease     int64
}

// response is an operation's output.
type response struct {
	// Unknown: the client got no answer (timeout, unavailable, ...); the
	// operation may or may not have taken effect. Its return time is
	// infinite.
	Unknown bool
	// RevOnly: Unknown patched from the watch: the write happened at Rev,
	// nothing else about its response is known.
	RevOnly bool
	// LeaseNotFound: a definite refusal, nothing changed.
	LeaseNotFound bool

	Rev       int64 // header revision
	KVs       []kv  // get, txn else branch
	Deleted   int64
	Succeeded bool
	LeaseID   int64
	Prev      *kv // put with prev_kv: nil when the key was absent
}

// operation is one recorded client call.
type operation struct {
	Client int
	Req    request
	Resp   response
	Call   int64 // ns since the start of the run
	Return int64 // ns since the start of the run; infinite for Unknown
	Err    string
}

// infinite is the return time of operations with an unknown outcome.
const infinite = math.MaxInt64

// recorder collects the operations of all clients. It is bounded: once
// limit operations are recorded, Full reports true and clients stop.
type recorder struct {
	start time.Time
	limit int

	mu  sync.Mutex
	ops []operation
}

func newRecorder(limit int) *recorder {
	return &recorder{start: time.Now(), limit: limit}
}

func (r *recorder) now() int64 { return time.Since(r.start).Nanoseconds() }

func (r *recorder) add(op operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Full reports whether the limit is reached.
func (r *recorder) Full() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops) >= r.limit
}

func (r *recorder) operations() []operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]operation(nil), r.ops...)
}

// toPorcupine converts operations to porcupine's form.
func toPorcupine(ops []operation) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		out = append(out, porcupine.Operation{
			ClientId: op.Client,
			Input:    op.Req,
			Output:   op.Resp,
			Call:     op.Call,
			Return:   op.Return,
		})
	}
	return out
}
