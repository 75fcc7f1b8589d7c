package metrics

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
)

// writeFamily writes f in the text exposition format 0.0.4, as
// client_golang's expfmt does: HELP and TYPE lines, then one line per
// sample (a histogram's _bucket lines with le, then _sum and _count).
func writeFamily(b *bytes.Buffer, f *Family) {
	b.WriteString("# HELP ")
	b.WriteString(f.Name)
	b.WriteByte(' ')
	b.WriteString(helpEscaper.Replace(f.Help))
	b.WriteString("\n# TYPE ")
	b.WriteString(f.Name)
	b.WriteByte(' ')
	b.WriteString(f.Type)
	b.WriteByte('\n')
	for _, s := range f.Samples {
		switch {
		case s.Hist != nil:
			h := s.Hist
			for i, bound := range h.Bounds {
				writeLine(b, f.Name+"_bucket", s.Labels, "le", formatFloat(bound), float64(h.Cumulative[i]))
			}
			writeLine(b, f.Name+"_bucket", s.Labels, "le", "+Inf", float64(h.Count))
			writeLine(b, f.Name+"_sum", s.Labels, "", "", h.Sum)
			writeLine(b, f.Name+"_count", s.Labels, "", "", float64(h.Count))
		case s.Summary != nil:
			qs := make([]float64, 0, len(s.Summary.Quantiles))
			for q := range s.Summary.Quantiles {
				qs = append(qs, q)
			}
			sort.Float64s(qs)
			for _, q := range qs {
				writeLine(b, f.Name, s.Labels, "quantile", formatFloat(q), s.Summary.Quantiles[q])
			}
			writeLine(b, f.Name+"_sum", s.Labels, "", "", s.Summary.Sum)
			writeLine(b, f.Name+"_count", s.Labels, "", "", float64(s.Summary.Count))
		default:
			writeLine(b, f.Name, s.Labels, "", "", s.Value)
		}
	}
}

// writeLine writes `name{labels,extra="extraValue"} value`.
func writeLine(b *bytes.Buffer, name string, labels []LabelPair, extra, extraValue string, v float64) {
	b.WriteString(name)
	if len(labels) > 0 || extra != "" {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			writeLabel(b, l.Name, l.Value)
		}
		if extra != "" {
			if len(labels) > 0 {
				b.WriteByte(',')
			}
			writeLabel(b, extra, extraValue)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func writeLabel(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	b.WriteString(labelEscaper.Replace(value))
	b.WriteByte('"')
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat formats v as the text format does: +Inf, -Inf, NaN, or the
// shortest representation ('g').
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
