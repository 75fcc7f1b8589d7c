// Package metrics exposes a member's metrics in the Prometheus text
// exposition format (version 0.0.4), under the names, types, labels and help
// strings etcd v3.7 uses, so that dashboards and alerts written for etcd work
// unchanged.
//
// A Registry belongs to one member (several members may run in one process,
// as in tests). Values the member already keeps are read when /metrics is
// scraped (GaugeFunc, CounterFunc); events that must be counted as they
// happen (a WAL fsync, a backend commit, bytes to a peer, a gRPC call) are
// reported through the Registry's Observe* methods and interceptors, which
// etcdmain hands to the packages as plain functions, so that those packages
// stay free of any metrics code.
//
// Where things live:
//   - metrics.go: Registry, its HTTP handler and the collector interface.
//   - types.go: counters, gauges, histograms and their labelled vectors.
//   - text.go: the text exposition format.
//   - etcd.go: etcd's metrics of a member.
//   - grpc.go: gRPC server metrics with go-grpc-prometheus's names.
//   - runtime.go, process_*.go: the go_* and process_* metrics.
package metrics

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metric types as the text format names them.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
	typeSummary   = "summary"
)

// Collector produces metric families when the registry is scraped.
type Collector interface {
	// Collect returns the collector's families. It may be called
	// concurrently with updates and with other scrapes.
	Collect() []*Family
}

// Family is one metric name with its help, type and samples.
type Family struct {
	Name    string
	Help    string
	Type    string
	Samples []Sample
}

// Sample is one labelled value of a family: Value for counters and gauges,
// Hist for histograms, Summary for summaries.
type Sample struct {
	Labels  []LabelPair
	Value   float64
	Hist    *HistogramValue
	Summary *SummaryValue
}

// LabelPair is one label of a sample.
type LabelPair struct{ Name, Value string }

// HistogramValue is a histogram's state: cumulative counts per upper bound
// (the +Inf bucket is Count), their sum and their count.
type HistogramValue struct {
	Bounds     []float64
	Cumulative []uint64
	Sum        float64
	Count      uint64
}

// SummaryValue is a summary's state: quantiles, sum and count.
type SummaryValue struct {
	Quantiles map[float64]float64
	Sum       float64
	Count     uint64
}

// Registry is the set of collectors one /metrics endpoint serves.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds collectors.
func (r *Registry) Register(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, cs...)
}

// Gather collects every family, sorted by name, each family's samples sorted
// by their labels. A name collected twice is an error.
func (r *Registry) Gather() ([]*Family, error) {
	r.mu.Lock()
	cs := append([]Collector(nil), r.collectors...)
	r.mu.Unlock()
	seen := map[string]bool{}
	var out []*Family
	for _, c := range cs {
		for _, f := range c.Collect() {
			if seen[f.Name] {
				return nil, fmt.Errorf("metric %q collected twice", f.Name)
			}
			seen[f.Name] = true
			for i := range f.Samples {
				sortLabels(f.Samples[i].Labels)
			}
			sort.SliceStable(f.Samples, func(i, j int) bool {
				return lessLabels(f.Samples[i].Labels, f.Samples[j].Labels)
			})
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Handler serves the registry's metrics in the text format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fams, err := r.Gather()
		if err != nil {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		var buf bytes.Buffer
		for _, f := range fams {
			writeFamily(&buf, f)
		}
		w.Header().Set("Content-Type", ContentType)
		w.Write(buf.Bytes())
	})
}

func sortLabels(ls []LabelPair) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
}

func lessLabels(a, b []LabelPair) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].Name != b[i].Name {
			return a[i].Name < b[i].Name
		}
		if a[i].Value != b[i].Value {
			return a[i].Value < b[i].Value
		}
	}
	return len(a) < len(b)
}
