package v1http

import (
	"slices"
	"testing"
)

func TestNormKey(t *testing.T) {
	for _, c := range []struct {
		in       string
		key      string
		trailing bool
	}{
		{"", "/", false},
		{"/", "/", true},
		{"/message", "/message", false},
		{"message", "/message", false},
		{"//a///b", "/a/b", false},
		{"/foo/", "/foo", true},
		{"/foo//", "/foo", true},
	} {
		k, tr := normKey(c.in)
		if k != c.key || tr != c.trailing {
			t.Errorf("normKey(%q) = %q, %v; want %q, %v", c.in, k, tr, c.key, c.trailing)
		}
	}
}

func TestAncestorsAndPrefixes(t *testing.T) {
	if got := ancestors("/a/b/c"); !slices.Equal(got, []string{"/a", "/a/b"}) {
		t.Errorf("ancestors(/a/b/c) = %q", got)
	}
	if got := ancestors("/a"); len(got) != 0 {
		t.Errorf("ancestors(/a) = %q", got)
	}
	if got := childPrefix("/"); got != "/" {
		t.Errorf("childPrefix(/) = %q", got)
	}
	if got := childPrefix("/foo"); got != "/foo/" {
		t.Errorf("childPrefix(/foo) = %q", got)
	}
	if got := string(prefixEnd([]byte("/foo/"))); got != "/foo0" {
		t.Errorf("prefixEnd(/foo/) = %q", got)
	}
	if got := prefixEnd([]byte{0xff}); !slices.Equal(got, []byte{0}) {
		t.Errorf("prefixEnd(ff) = %v", got)
	}
}
