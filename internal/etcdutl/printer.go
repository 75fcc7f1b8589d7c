package etcdutl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/etcdgo/etcd/internal/humanize"
	"github.com/etcdgo/etcd/internal/snapshot"
	"github.com/etcdgo/etcd/internal/tablefmt"
)

// printer writes a snapshot status or a hash in one --write-out format.
type printer interface {
	DBStatus(st snapshot.Status) error
	DBHashKV(h HashKV) error
}

// newPrinter returns the printer for format, or an ExitBadFeature error
// for a format etcdutl does not know.
func newPrinter(format string, w io.Writer) (printer, error) {
	switch format {
	case "simple":
		return simplePrinter{w}, nil
	case "json":
		return jsonPrinter{w}, nil
	case "fields":
		return fieldsPrinter{w}, nil
	case "table":
		return tablePrinter{w}, nil
	case "protobuf":
		return unsupportedPrinter{"protobuf"}, nil
	}
	return nil, fail(ExitBadFeature, errors.New("unsupported output format"))
}

// statusHeader and statusRow are the columns of the simple and table
// formats.
var statusHeader = []string{"hash", "revision", "total keys", "total size", "version"}

func statusRow(st snapshot.Status) []string {
	return []string{
		fmt.Sprintf("%x", st.Hash),
		fmt.Sprint(st.Revision),
		fmt.Sprint(st.TotalKey),
		humanize.Bytes(uint64(max(st.TotalSize, 0))),
		st.Version,
	}
}

// simplePrinter prints the row joined by ", ".
type simplePrinter struct{ w io.Writer }

func (p simplePrinter) DBStatus(st snapshot.Status) error {
	_, err := fmt.Fprintln(p.w, strings.Join(statusRow(st), ", "))
	return err
}

func (p simplePrinter) DBHashKV(h HashKV) error {
	_, err := fmt.Fprintln(p.w, strings.Join(hashKVRow(h), ", "))
	return err
}

// jsonPrinter prints the status as one JSON object.
type jsonPrinter struct{ w io.Writer }

func (p jsonPrinter) DBStatus(st snapshot.Status) error { return p.print(st) }

func (p jsonPrinter) DBHashKV(h HashKV) error { return p.print(h) }

func (p jsonPrinter) print(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal %T: %w", v, err)
	}
	_, err = fmt.Fprintln(p.w, string(b))
	return err
}

// fieldsPrinter prints one `"Name" : value` line per field.
type fieldsPrinter struct{ w io.Writer }

func (p fieldsPrinter) DBStatus(st snapshot.Status) error {
	var b strings.Builder
	fmt.Fprintln(&b, `"Hash" :`, st.Hash)
	fmt.Fprintln(&b, `"Revision" :`, st.Revision)
	fmt.Fprintln(&b, `"Keys" :`, st.TotalKey)
	fmt.Fprintln(&b, `"Size" :`, st.TotalSize)
	fmt.Fprintln(&b, `"Version" :`, st.Version)
	_, err := io.WriteString(p.w, b.String())
	return err
}

func (p fieldsPrinter) DBHashKV(h HashKV) error {
	var b strings.Builder
	fmt.Fprintln(&b, `"Hash" :`, h.Hash)
	fmt.Fprintln(&b, `"Hash revision" :`, h.HashRevision)
	fmt.Fprintln(&b, `"Compact revision" :`, h.CompactRevision)
	_, err := io.WriteString(p.w, b.String())
	return err
}

// tablePrinter prints a box-drawn table with a centred upper-case header
// and right-aligned cells.
type tablePrinter struct{ w io.Writer }

func (p tablePrinter) DBStatus(st snapshot.Status) error {
	_, err := io.WriteString(p.w, tablefmt.Render(statusHeader, [][]string{statusRow(st)}))
	return err
}

func (p tablePrinter) DBHashKV(h HashKV) error {
	_, err := io.WriteString(p.w, tablefmt.Render(hashKVHeader, [][]string{hashKVRow(h)}))
	return err
}

// unsupportedPrinter is a format etcdutl knows but cannot print a status
// in.
type unsupportedPrinter struct{ name string }

func (p unsupportedPrinter) DBStatus(snapshot.Status) error {
	return fail(ExitBadFeature, errors.New(p.name+" not supported as output format"))
}

func (p unsupportedPrinter) DBHashKV(HashKV) error {
	return fail(ExitBadFeature, errors.New(p.name+" not supported as output format"))
}
