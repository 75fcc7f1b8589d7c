// Package humanize formats byte counts as etcd, etcdctl and etcdutl print
// them (go-humanize's Bytes).
package humanize

import (
	"fmt"
	"math"
)

// Bytes formats n in SI units (powers of 1000): "9 B", "1.5 kB", "20 kB",
// "2.1 GB": one decimal below 10, none from 10 on, plain bytes under 10.
func Bytes(n uint64) string {
	if n < 10 {
		return fmt.Sprintf("%d B", n)
	}
	sizes := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	e := math.Floor(math.Log(float64(n)) / math.Log(1000))
	val := math.Floor(float64(n)/math.Pow(1000, e)*10+0.5) / 10
	f := "%.0f %s"
	if val < 10 {
		f = "%.1f %s"
	}
	return fmt.Sprintf(f, val, sizes[int(e)])
}
