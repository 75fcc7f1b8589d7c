package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// errRevisionNotFound is returned by the key index when a key has no live
// revision at the requested point of history.
var errRevisionNotFound = errors.New("mvcc: revision not found")

// keyIndex holds the revisions of one key. The revisions are grouped in
// generations: a generation starts with the put that creates the key and ends
// with the tombstone that deletes it; a tombstone also opens a new, empty
// generation. The last generation is the live one (empty if the key is
// currently deleted).
//
// put(1.0) put(2.0) tombstone(3.0) put(4.0) tombstone(5.0) gives
//
//	{1.0 2.0 3.0(t)} {4.0 5.0(t)} {}
//
// compact(n) drops, per generation chain, every revision with main <= n except
// the latest one; generations that end (tombstone) before n vanish entirely,
// and a tombstone at exactly n is kept (it is removed by the next compaction).
// A keyIndex left with just one empty generation is removed from the tree.
type keyIndex struct {
	key         []byte
	modified    Revision // the last revision that changed the key
	generations []generation
}

// generation is one life of a key: from creation to (optionally) tombstone.
type generation struct {
	ver     int64    // version of the key at the last revision in revs
	created Revision // revision that created the key in this generation
	revs    []Revision
}

func (g *generation) isEmpty() bool { return g == nil || len(g.revs) == 0 }

// findRevisionIndex returns the index of the last revision with Main <= atRev,
// or -1.
func (g *generation) findRevisionIndex(atRev int64) int {
	lo, hi := 0, len(g.revs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if g.revs[mid].Main <= atRev {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

func (g *generation) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "{created=%s ver=%d revs=[", g.created, g.ver)
	for i, r := range g.revs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(r.String())
	}
	sb.WriteString("]}")
	return sb.String()
}

func newKeyIndex(key []byte) *keyIndex { return &keyIndex{key: key} }

// put appends rev to the live generation.
func (ki *keyIndex) put(rev Revision) {
	if !rev.GreaterThan(ki.modified) {
		panic(fmt.Sprintf("mvcc: put of key %q at %s not after last modification %s", ki.key, rev, ki.modified))
	}
	if len(ki.generations) == 0 {
		ki.generations = append(ki.generations, generation{})
	}
	g := &ki.generations[len(ki.generations)-1]
	if len(g.revs) == 0 {
		g.created = rev
	}
	g.revs = append(g.revs, rev)
	g.ver++
	ki.modified = rev
}

// restore initialises an empty keyIndex from the latest revision found in the
// backend when earlier revisions have been compacted away.
func (ki *keyIndex) restore(created, modified Revision, ver int64) {
	if len(ki.generations) != 0 {
		panic(fmt.Sprintf("mvcc: restore of key %q with %d generations", ki.key, len(ki.generations)))
	}
	ki.modified = modified
	ki.generations = append(ki.generations, generation{created: created, ver: ver, revs: []Revision{modified}})
}

// restoreTombstone initialises an empty keyIndex whose only surviving
// revision is a tombstone (its creation was compacted away).
func (ki *keyIndex) restoreTombstone(rev Revision) {
	ki.restore(Revision{}, rev, 1)
	ki.generations = append(ki.generations, generation{})
}

// tombstone ends the live generation with rev. It returns errRevisionNotFound
// if the key is not live.
func (ki *keyIndex) tombstone(rev Revision) error {
	if ki.isEmpty() {
		panic(fmt.Sprintf("mvcc: tombstone on empty keyIndex %q", ki.key))
	}
	if ki.generations[len(ki.generations)-1].isEmpty() {
		return errRevisionNotFound
	}
	ki.put(rev)
	ki.generations = append(ki.generations, generation{})
	return nil
}

// get returns the revision of the key visible at atRev, the revision that
// created that generation, and the key's version at that point.
func (ki *keyIndex) get(atRev int64) (modified, created Revision, ver int64, err error) {
	if ki.isEmpty() {
		panic(fmt.Sprintf("mvcc: get on empty keyIndex %q", ki.key))
	}
	g := ki.findGeneration(atRev)
	if g.isEmpty() {
		return Revision{}, Revision{}, 0, errRevisionNotFound
	}
	if n := g.findRevisionIndex(atRev); n != -1 {
		return g.revs[n], g.created, g.ver - int64(len(g.revs)-n-1), nil
	}
	return Revision{}, Revision{}, 0, errRevisionNotFound
}

// since returns the revisions with main >= rev, keeping only the last one of
// each main revision.
func (ki *keyIndex) since(rev int64) []Revision {
	if ki.isEmpty() {
		panic(fmt.Sprintf("mvcc: since on empty keyIndex %q", ki.key))
	}
	since := Revision{Main: rev}
	gi := len(ki.generations) - 1
	for ; gi > 0; gi-- {
		g := &ki.generations[gi]
		if g.isEmpty() {
			continue
		}
		if since.GreaterThan(g.created) {
			break
		}
	}
	var revs []Revision
	var last int64
	for ; gi < len(ki.generations); gi++ {
		for _, r := range ki.generations[gi].revs {
			if since.GreaterThan(r) {
				continue
			}
			if r.Main == last && len(revs) > 0 {
				revs[len(revs)-1] = r
				continue
			}
			revs = append(revs, r)
			last = r.Main
		}
	}
	return revs
}

// doCompact finds the generation that holds atRev (or the first one after
// it) and the index in it of the last revision <= atRev, which it adds to
// available.
func (ki *keyIndex) doCompact(atRev int64, available map[Revision]struct{}) (genIdx, revIdx int) {
	g := &ki.generations[0]
	for genIdx < len(ki.generations)-1 {
		if tomb := g.revs[len(g.revs)-1].Main; tomb >= atRev {
			break
		}
		genIdx++
		g = &ki.generations[genIdx]
	}
	revIdx = g.findRevisionIndex(atRev)
	if revIdx != -1 {
		available[g.revs[revIdx]] = struct{}{}
	}
	return genIdx, revIdx
}

// compact drops the revisions that are not needed to read at atRev or later
// and records the revision it keeps at or below atRev in available.
func (ki *keyIndex) compact(atRev int64, available map[Revision]struct{}) {
	if ki.isEmpty() {
		panic(fmt.Sprintf("mvcc: compact on empty keyIndex %q", ki.key))
	}
	genIdx, revIdx := ki.doCompact(atRev, available)
	g := &ki.generations[genIdx]
	if !g.isEmpty() && revIdx != -1 {
		g.revs = g.revs[revIdx:]
	}
	ki.generations = ki.generations[genIdx:]
}

// keep records in available the revision a compaction at atRev would keep,
// except a tombstone at exactly atRev (which HashKV must not include, to
// agree with etcd versions that deleted it).
func (ki *keyIndex) keep(atRev int64, available map[Revision]struct{}) {
	if ki.isEmpty() {
		return
	}
	genIdx, revIdx := ki.doCompact(atRev, available)
	g := &ki.generations[genIdx]
	if !g.isEmpty() && revIdx == len(g.revs)-1 && genIdx != len(ki.generations)-1 {
		delete(available, g.revs[revIdx])
	}
}

func (ki *keyIndex) isEmpty() bool {
	return len(ki.generations) == 1 && ki.generations[0].isEmpty()
}

// findGeneration returns the generation in which the key is live at rev, or
// nil if the key does not exist at rev.
func (ki *keyIndex) findGeneration(rev int64) *generation {
	lastg := len(ki.generations) - 1
	for cg := lastg; cg >= 0; cg-- {
		g := &ki.generations[cg]
		if len(g.revs) == 0 {
			continue
		}
		if cg != lastg {
			if tomb := g.revs[len(g.revs)-1].Main; tomb <= rev {
				return nil
			}
		}
		if g.revs[0].Main <= rev {
			return g
		}
	}
	return nil
}

func (ki *keyIndex) less(b *keyIndex) bool { return bytes.Compare(ki.key, b.key) < 0 }

// String formats ki for tests and debugging.
func (ki *keyIndex) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s modified=%s", ki.key, ki.modified)
	for i := range ki.generations {
		sb.WriteByte(' ')
		sb.WriteString(ki.generations[i].String())
	}
	return sb.String()
}
