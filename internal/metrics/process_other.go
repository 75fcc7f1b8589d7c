//go:build !linux

package metrics

// ProcessCollector reports no process_* metrics outside Linux.
func ProcessCollector() Collector {
	return CollectorFunc(func() []*Family { return nil })
}
