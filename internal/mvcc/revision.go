package mvcc

import "fmt"

// Revision is a point in the store's history: Main is the revision of the
// transaction, Sub the position of a change inside it. It has the same layout
// as schema.Revision, so the two convert into each other directly.
type Revision struct {
	Main int64
	Sub  int64
}

// GreaterThan reports whether r comes after b.
func (r Revision) GreaterThan(b Revision) bool {
	if r.Main != b.Main {
		return r.Main > b.Main
	}
	return r.Sub > b.Sub
}

// String formats r as "main.sub".
func (r Revision) String() string { return fmt.Sprintf("%d.%d", r.Main, r.Sub) }
