package etcdctl

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// readPassword prints prompt on stdout and reads one line from stdin; when
// stdin is a terminal, its echo is turned off while the password is typed.
func readPassword(stdio IO, prompt string) (string, error) {
	fmt.Fprint(stdio.Stdout, prompt)
	defer fmt.Fprintln(stdio.Stdout)
	if f, ok := stdio.Stdin.(*os.File); ok {
		if restore, err := noEcho(int(f.Fd())); err == nil {
			defer restore()
		}
	}
	return readLine(stdio.Stdin)
}

// readLine reads up to a newline, one byte at a time so that nothing after
// the line is consumed from r.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// noEcho turns off the echo of terminal fd and returns how to restore it;
// it fails when fd is not a terminal.
func noEcho(fd int) (func(), error) {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	old := *t
	t.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, t); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, &old) }, nil
}

// scanWord reads one whitespace-separated word from r, as fmt.Scanf("%s")
// does for etcdctl's non-interactive password input.
func scanWord(r io.Reader) string {
	var s string
	_, _ = fmt.Fscanf(bufio.NewReader(r), "%s", &s)
	return s
}
