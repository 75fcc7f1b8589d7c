//go:build linux

package metrics

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ProcessCollector returns client_golang's process_* metrics, read from
// /proc/self.
func ProcessCollector() Collector {
	return CollectorFunc(func() []*Family {
		stat, err := os.ReadFile("/proc/self/stat")
		if err != nil {
			return nil
		}
		// The fields after the command, which is in parentheses and may hold
		// spaces.
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			s = s[i+1:]
		}
		f := strings.Fields(s)
		field := func(n int) float64 { // n is the 1-based field number of proc(5)
			if n-3 < 0 || n-3 >= len(f) {
				return 0
			}
			v, _ := strconv.ParseFloat(f[n-3], 64)
			return v
		}
		const ticks = 100 // USER_HZ on Linux
		var fams []*Family
		fams = append(fams,
			counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (field(14)+field(15))/ticks),
			gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23)),
			gauge("process_resident_memory_bytes", "Resident memory size in bytes.", field(24)*float64(os.Getpagesize())),
		)
		if bt := bootTime(); bt > 0 {
			fams = append(fams, gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", bt+field(22)/ticks))
		}
		if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
			fams = append(fams, gauge("process_open_fds", "Number of open file descriptors.", float64(len(ents))))
		}
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
			fams = append(fams, gauge("process_max_fds", "Maximum number of open file descriptors.", float64(rl.Cur)))
		}
		if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil {
			v := float64(rl.Cur)
			if rl.Cur == ^uint64(0) {
				v = float64(^uint64(0)) // client_golang reports RLIM_INFINITY as is
			}
			fams = append(fams, gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", v))
		}
		return fams
	})
}

// bootTime is the btime line of /proc/stat (seconds since the epoch).
func bootTime() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			f, _ := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
			return f
		}
	}
	return 0
}
