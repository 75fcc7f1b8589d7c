package etcdctl

import (
	"io"

	"github.com/etcdgo/etcd/internal/tablefmt"
)

// table prints header and rows as a box-drawn table.
func (p *printer) table(header []string, rows [][]string) {
	_, _ = io.WriteString(p.w, tablefmt.Render(header, rows))
}
