// Package tablefmt draws the box tables etcdctl and etcdutl print with
// -w table (their tablewriter's default style), byte for byte.
package tablefmt

import (
	"strings"
	"unicode/utf8"
)

// Title formats a header cell as the table writer does: underscores become
// spaces, then upper case.
func Title(s string) string {
	return strings.ToUpper(strings.TrimSpace(strings.ReplaceAll(s, "_", " ")))
}

// Render draws header and rows: light box-drawing borders, one space of
// padding, the header titled (Title) and centred (an odd gap puts the extra
// space on the right), cells right-aligned. Cells beyond the header's
// columns are dropped; missing ones are blank.
func Render(header []string, rows [][]string) string {
	widths := make([]int, len(header))
	hdr := make([]string, len(header))
	for i, h := range header {
		hdr[i] = Title(h)
		widths[i] = utf8.RuneCountInString(hdr[i])
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for i, w := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", w+2))
		}
		b.WriteString(right + "\n")
	}
	line := func(cells []string, center bool) {
		b.WriteString("│")
		for i, w := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			gap := w - utf8.RuneCountInString(c)
			left := gap
			if center {
				left = gap / 2
			}
			b.WriteString(" " + strings.Repeat(" ", left) + c + strings.Repeat(" ", gap-left) + " │")
		}
		b.WriteString("\n")
	}
	rule("┌", "┬", "┐")
	line(hdr, true)
	rule("├", "┼", "┤")
	for _, r := range rows {
		line(r, false)
	}
	rule("└", "┴", "┘")
	return b.String()
}
