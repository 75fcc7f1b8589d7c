package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// trafficConfig shapes the client load of a run.
type trafficConfig struct {
	Clients  int           // concurrent clients
	Rate     int           // total operations per second
	MaxOps   int           // the history's bound
	OpTimout time.Duration // each call's deadline
	LeaseTTL int64         // seconds; longer than the run, so no lease expires
}

// weights of the operation kinds, in opKind order.
var opWeights = [...]int{
	opGet:         24,
	opPut:         24,
	opPutLease:    6,
	opDelete:      6,
	opTxnCAS:      18,
	opLeaseGrant:  3,
	opLeaseRevoke: 3,
	opStaleGet:    16,
}

// leasePool is the leases the clients granted and have not revoked.
type leasePool struct {
	mu  sync.Mutex
	ids []int64
}

func (p *leasePool) add(id int64) {
	p.mu.Lock()
	p.ids = append(p.ids, id)
	p.mu.Unlock()
}

func (p *leasePool) pick(rng *rand.Rand, remove bool) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return 0, false
	}
	i := rng.IntN(len(p.ids))
	id := p.ids[i]
	if remove {
		p.ids = append(p.ids[:i], p.ids[i+1:]...)
	}
	return id, true
}

func (p *leasePool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids)
}

// trafficClient is one client goroutine's state.
type trafficClient struct {
	cli    *clientv3.Client
	rng    *rand.Rand
	cfg    trafficConfig
	rec    *recorder
	leases *leasePool
	ids    *idAllocator
	name   int // the client's number, for unique values
	id     int // porcupine client id, renewed after an unknown outcome
	seq    int
	// modRev is the last mod revision this client saw per key, for CAS.
	modRev [numKeys]int64
}

// idAllocator hands out porcupine client IDs.
type idAllocator struct {
	mu   sync.Mutex
	next int
}

func (a *idAllocator) get() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	return a.next - 1
}

// run issues operations at the client's share of the rate until ctx ends
// or the recorder is full.
func (c *trafficClient) run(ctx context.Context) {
	interval := time.Duration(float64(time.Second) * float64(c.cfg.Clients) / float64(max(c.cfg.Rate, 1)))
	next := time.Now()
	for ctx.Err() == nil && !c.rec.Full() {
		c.once(ctx)
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return
			}
		} else if d < -time.Second {
			next = time.Now() // do not burst after a long stall
		}
	}
}

func (c *trafficClient) pickKind() opKind {
	total := 0
	for _, w := range opWeights {
		total += w
	}
	n := c.rng.IntN(total)
	for k, w := range opWeights {
		if n < w {
			return opKind(k)
		}
		n -= w
	}
	return opGet
}

// once issues and records one operation.
func (c *trafficClient) once(ctx context.Context) {
	req := request{Kind: c.pickKind(), Key: c.rng.IntN(numKeys)}
	req.End = req.Key + 1
	switch req.Kind {
	case opGet, opStaleGet:
		if c.rng.IntN(4) == 0 { // a range over the prefix or a part of it
			req.Key = c.rng.IntN(numKeys / 2)
			req.End = req.Key + 1 + c.rng.IntN(numKeys-req.Key)
			if c.rng.IntN(2) == 0 {
				req.Key, req.End = 0, numKeys
			}
		}
	case opPut:
		req.PrevKV = c.rng.IntN(2) == 0
	case opPutLease:
		id, ok := c.leases.pick(c.rng, false)
		if !ok {
			req.Kind = opPut
		}
		req.Lease = id
	case opLeaseGrant:
		if c.leases.size() >= 4 {
			req.Kind = opPut
		}
	case opLeaseRevoke:
		id, ok := c.leases.pick(c.rng, true)
		if !ok {
			req.Kind = opPut
		}
		req.Lease = id
	case opTxnCAS:
		req.Expect = c.modRev[req.Key]
	}
	if req.Kind == opPut || req.Kind == opPutLease || req.Kind == opTxnCAS {
		c.seq++
		req.Value = fmt.Sprintf("c%d-%d", c.name, c.seq)
	}

	opCtx, cancel := context.WithTimeout(ctx, c.cfg.OpTimout)
	defer cancel()
	op := operation{Client: c.id, Req: req, Call: c.rec.now()}
	resp, err := c.do(opCtx, req)
	op.Return = c.rec.now()
	op.Resp = resp
	if err != nil {
		op.Err = err.Error()
		switch {
		case req.Kind == opGet || req.Kind == opStaleGet || req.Kind == opLeaseGrant:
			// A read or a grant whose ID nobody learned: no trace to keep.
			return
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			op.Resp = response{LeaseNotFound: true}
		default:
			op.Resp = response{Unknown: true}
			op.Return = infinite
			c.id = c.ids.get() // porcupine: a client's calls must not overlap
		}
	}
	if req.Kind == opLeaseGrant && err == nil {
		c.leases.add(resp.LeaseID)
	}
	c.rec.add(op)
}

// do runs req against etcd.
func (c *trafficClient) do(ctx context.Context, req request) (response, error) {
	key := keyName(req.Key)
	switch req.Kind {
	case opGet, opStaleGet:
		opts := []clientv3.OpOption{}
		if req.End > req.Key+1 {
			opts = append(opts, clientv3.WithRange(keyName(req.End-1)+"\x00"))
			if req.End == numKeys && req.Key == 0 {
				opts = []clientv3.OpOption{clientv3.WithPrefix()}
				key = keyPrefix
			}
		}
		if req.Kind == opStaleGet {
			opts = append(opts, clientv3.WithSerializable())
		}
		r, err := c.cli.Get(ctx, key, opts...)
		if err != nil {
			return response{}, err
		}
		out := response{Rev: r.Header.Revision, KVs: fromKVs(r.Kvs)}
		for _, k := range out.KVs {
			c.modRev[k.Key] = k.ModRev
		}
		if req.End == req.Key+1 && len(out.KVs) == 0 {
			c.modRev[req.Key] = 0
		}
		return out, nil
	case opPut, opPutLease:
		var opts []clientv3.OpOption
		if req.PrevKV {
			opts = append(opts, clientv3.WithPrevKV())
		}
		if req.Lease != 0 {
			opts = append(opts, clientv3.WithLease(clientv3.LeaseID(req.Lease)))
		}
		r, err := c.cli.Put(ctx, key, req.Value, opts...)
		if err != nil {
			return response{}, err
		}
		out := response{Rev: r.Header.Revision}
		if r.PrevKv != nil {
			p := fromKV(r.PrevKv)
			out.Prev = &p
		}
		c.modRev[req.Key] = out.Rev
		return out, nil
	case opDelete:
		r, err := c.cli.Delete(ctx, key)
		if err != nil {
			return response{}, err
		}
		c.modRev[req.Key] = 0
		return response{Rev: r.Header.Revision, Deleted: r.Deleted}, nil
	case opTxnCAS:
		r, err := c.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", req.Expect)).
			Then(clientv3.OpPut(key, req.Value)).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return response{}, err
		}
		out := response{Rev: r.Header.Revision, Succeeded: r.Succeeded}
		if r.Succeeded {
			c.modRev[req.Key] = out.Rev
		} else if len(r.Responses) == 1 && r.Responses[0].GetResponseRange() != nil {
			out.KVs = fromKVs(r.Responses[0].GetResponseRange().Kvs)
			c.modRev[req.Key] = 0
			if len(out.KVs) == 1 {
				c.modRev[req.Key] = out.KVs[0].ModRev
			}
		}
		return out, nil
	case opLeaseGrant:
		r, err := c.cli.Grant(ctx, c.cfg.LeaseTTL)
		if err != nil {
			return response{}, err
		}
		return response{Rev: r.ResponseHeader.GetRevision(), LeaseID: int64(r.ID)}, nil
	case opLeaseRevoke:
		r, err := c.cli.Revoke(ctx, clientv3.LeaseID(req.Lease))
		if err != nil {
			return response{}, err
		}
		return response{Rev: r.Header.Revision}, nil
	}
	return response{}, fmt.Errorf("unknown op kind %d", req.Kind)
}

func fromKV(k *mvccpb.KeyValue) kv {
	return kv{
		Key:       keyIndex(string(k.Key)),
		Value:     string(k.Value),
		ModRev:    k.ModRevision,
		CreateRev: k.CreateRevision,
		Version:   k.Version,
		Lease:     k.Lease,
	}
}

func fromKVs(kvs []*mvccpb.KeyValue) []kv {
	out := make([]kv, 0, len(kvs))
	for _, k := range kvs {
		out = append(out, fromKV(k))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
