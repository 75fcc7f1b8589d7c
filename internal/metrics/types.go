package metrics

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// desc names a family.
type desc struct{ name, help string }

// Counter is a value that only goes up. NewCounter's Counter is a collector
// of its own; a CounterVec's children are not.
type Counter struct {
	desc
	bits atomic.Uint64
}

// NewCounter returns an unlabelled counter at 0.
func NewCounter(name, help string) *Counter { return &Counter{desc: desc{name, help}} }

// Add adds v, which must not be negative.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic(fmt.Sprintf("metrics: counter %s cannot decrease", c.name))
	}
	addFloat(&c.bits, v)
}

// Inc adds 1.
func (c *Counter) Inc() { c.Add(1) }

// Value returns the current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

// Collect implements Collector.
func (c *Counter) Collect() []*Family {
	return []*Family{{Name: c.name, Help: c.help, Type: typeCounter, Samples: []Sample{{Value: c.Value()}}}}
}

// Gauge is a value that goes up and down.
type Gauge struct {
	desc
	bits atomic.Uint64
}

// NewGauge returns an unlabelled gauge at 0.
func NewGauge(name, help string) *Gauge { return &Gauge{desc: desc{name, help}} }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds v (which may be negative).
func (g *Gauge) Add(v float64) { addFloat(&g.bits, v) }

// Value returns the current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Collect implements Collector.
func (g *Gauge) Collect() []*Family {
	return []*Family{{Name: g.name, Help: g.help, Type: typeGauge, Samples: []Sample{{Value: g.Value()}}}}
}

func addFloat(bits *atomic.Uint64, v float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Func is a counter or gauge whose value is read at scrape time.
type Func struct {
	desc
	typ string
	f   func() float64
}

// NewGaugeFunc returns a gauge that calls f at every scrape.
func NewGaugeFunc(name, help string, f func() float64) *Func {
	return &Func{desc: desc{name, help}, typ: typeGauge, f: f}
}

// NewCounterFunc returns a counter that calls f at every scrape; f must never
// return less than it returned before.
func NewCounterFunc(name, help string, f func() float64) *Func {
	return &Func{desc: desc{name, help}, typ: typeCounter, f: f}
}

// Collect implements Collector.
func (f *Func) Collect() []*Family {
	return []*Family{{Name: f.name, Help: f.help, Type: f.typ, Samples: []Sample{{Value: f.f()}}}}
}

// Histogram counts observations in buckets by upper bound.
type Histogram struct {
	desc
	bounds []float64

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last one is +Inf
	sum    float64
	count  uint64
}

// NewHistogram returns an unlabelled histogram with the given upper bounds
// (sorted ascending, +Inf implied).
func NewHistogram(name, help string, bounds []float64) *Histogram {
	h := newHistogram(bounds)
	h.desc = desc{name, help}
	return h
}

func newHistogram(bounds []float64) *Histogram {
	if !sort.Float64sAreSorted(bounds) {
		panic("metrics: histogram bounds must be sorted")
	}
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.count++
	h.mu.Unlock()
}

// Snapshot returns the histogram's state.
func (h *Histogram) Snapshot() *HistogramValue {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := &HistogramValue{Bounds: h.bounds, Cumulative: make([]uint64, len(h.bounds)), Sum: h.sum, Count: h.count}
	var acc uint64
	for i := range h.bounds {
		acc += h.counts[i]
		v.Cumulative[i] = acc
	}
	return v
}

// Collect implements Collector.
func (h *Histogram) Collect() []*Family {
	return []*Family{{Name: h.name, Help: h.help, Type: typeHistogram, Samples: []Sample{{Hist: h.Snapshot()}}}}
}

// ExponentialBuckets returns n bounds: start, start*factor, ...
func ExponentialBuckets(start, factor float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = start
		start *= factor
	}
	return out
}

// DefBuckets are client_golang's default histogram bounds.
var DefBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// vec is the labelled children of one family.
type vec[M any] struct {
	desc
	labels []string
	newM   func() *M

	mu       sync.RWMutex
	children map[string]*child[M]
}

type child[M any] struct {
	values []string
	m      *M
}

func newVec[M any](name, help string, labels []string, newM func() *M) vec[M] {
	return vec[M]{desc: desc{name, help}, labels: labels, newM: newM, children: map[string]*child[M]{}}
}

// with returns the child for the label values, creating it at its zero.
func (v *vec[M]) with(values []string) *M {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s has %d labels, got %d values", v.name, len(v.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	c := v.children[key]
	v.mu.RUnlock()
	if c != nil {
		return c.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c = v.children[key]; c == nil {
		c = &child[M]{values: append([]string(nil), values...), m: v.newM()}
		v.children[key] = c
	}
	return c.m
}

// samples returns one sample per child, made by f.
func (v *vec[M]) samples(f func(m *M) Sample) []Sample {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Sample, 0, len(v.children))
	for _, c := range v.children {
		s := f(c.m)
		s.Labels = make([]LabelPair, len(v.labels))
		for i, n := range v.labels {
			s.Labels[i] = LabelPair{n, c.values[i]}
		}
		out = append(out, s)
	}
	return out
}

// CounterVec is a counter family with labels.
type CounterVec struct{ vec[Counter] }

// NewCounterVec returns a counter family with the label names.
func NewCounterVec(name, help string, labels ...string) *CounterVec {
	return &CounterVec{newVec(name, help, labels, func() *Counter { return &Counter{} })}
}

// With returns the counter of the label values (in label order).
func (v *CounterVec) With(values ...string) *Counter { return v.with(values) }

// Collect implements Collector.
func (v *CounterVec) Collect() []*Family {
	return []*Family{{Name: v.name, Help: v.help, Type: typeCounter,
		Samples: v.samples(func(c *Counter) Sample { return Sample{Value: c.Value()} })}}
}

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ vec[Gauge] }

// NewGaugeVec returns a gauge family with the label names.
func NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	return &GaugeVec{newVec(name, help, labels, func() *Gauge { return &Gauge{} })}
}

// With returns the gauge of the label values (in label order).
func (v *GaugeVec) With(values ...string) *Gauge { return v.with(values) }

// Collect implements Collector.
func (v *GaugeVec) Collect() []*Family {
	return []*Family{{Name: v.name, Help: v.help, Type: typeGauge,
		Samples: v.samples(func(g *Gauge) Sample { return Sample{Value: g.Value()} })}}
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ vec[Histogram] }

// NewHistogramVec returns a histogram family with the bounds and label names.
func NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	return &HistogramVec{newVec(name, help, labels, func() *Histogram { return newHistogram(bounds) })}
}

// With returns the histogram of the label values (in label order).
func (v *HistogramVec) With(values ...string) *Histogram { return v.with(values) }

// Collect implements Collector.
func (v *HistogramVec) Collect() []*Family {
	return []*Family{{Name: v.name, Help: v.help, Type: typeHistogram,
		Samples: v.samples(func(h *Histogram) Sample { return Sample{Hist: h.Snapshot()} })}}
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func() []*Family

// Collect implements Collector.
func (f CollectorFunc) Collect() []*Family { return f() }
