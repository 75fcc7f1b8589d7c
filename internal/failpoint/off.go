//go:build !failpoints

package failpoint

const enabled = false

// Hit marks a crash point; without the failpoints build tag it does nothing.
func Hit(string) {}
