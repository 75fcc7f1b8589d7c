package server

import (
	"sync/atomic"
	"time"
)

// idGenerator makes request IDs unique across members and restarts, as etcd's
// do: the low 16 bits of the member ID, then 40 bits of milliseconds since
// the epoch at start, then an 8-bit counter that carries into the time bits.
type idGenerator struct {
	prefix uint64
	suffix atomic.Uint64
}

const (
	idTimeBits  = 40
	idCountBits = 8
	idSuffixLen = idTimeBits + idCountBits
)

func newIDGenerator(memberID uint64, now time.Time) *idGenerator {
	g := &idGenerator{prefix: (memberID & 0xffff) << idSuffixLen}
	ms := uint64(now.UnixMilli())
	g.suffix.Store((ms << idCountBits) & (1<<idSuffixLen - 1))
	return g
}

// Next returns a fresh ID.
func (g *idGenerator) Next() uint64 {
	s := g.suffix.Add(1) & (1<<idSuffixLen - 1)
	return g.prefix | s
}
