package config

import (
	"reflect"
	"testing"
)

func TestParseYAML(t *testing.T) {
	doc := `---
# comment
plain: http://a:1,http://b:2   # trailing comment
single: 'it''s # not a comment'
double: "tab\there"
empty:
tilde: ~
hash: a#b
list: [a, 'b, c', "d"]
multi: [
  x,
  y,
]
block:
  - one
  - 'two'
same-indent-block:
- three
nested:
  inner: v
  deeper:
    k: w
"quoted key": q
last: true
`
	root, err := parseYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"plain", "single", "double", "empty", "tilde", "hash", "list", "multi", "block", "same-indent-block", "nested", "quoted key", "last"}
	if !reflect.DeepEqual(root.keys, wantKeys) {
		t.Fatalf("keys = %v", root.keys)
	}
	scalars := map[string]string{
		"plain": "http://a:1,http://b:2", "single": "it's # not a comment", "double": "tab\there",
		"hash": "a#b", "quoted key": "q", "last": "true",
	}
	for k, want := range scalars {
		if n := root.fields[k]; n.kind != yamlScalar || n.scalar != want {
			t.Errorf("%s = %+v, want %q", k, n, want)
		}
	}
	for _, k := range []string{"empty", "tilde"} {
		if root.fields[k].kind != yamlNull {
			t.Errorf("%s not null", k)
		}
	}
	lists := map[string][]string{
		"list": {"a", "b, c", "d"}, "multi": {"x", "y"}, "block": {"one", "two"}, "same-indent-block": {"three"},
	}
	for k, want := range lists {
		if n := root.fields[k]; n.kind != yamlList || !reflect.DeepEqual(n.list, want) {
			t.Errorf("%s = %+v, want %q", k, n, want)
		}
	}
	nested := root.fields["nested"]
	if nested.kind != yamlMap || nested.fields["inner"].scalar != "v" || nested.fields["deeper"].fields["k"].scalar != "w" {
		t.Errorf("nested = %+v", nested)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	for _, doc := range []string{
		"a: 1\n  b: 2\n",      // bad indentation
		"  a: 1\n",            // indented top level
		"a: 1\na: 2\n",        // duplicate
		"a: *ref\n",           // alias
		"a: !!str x\n",        // tag
		"a: >\n  x\n",         // block scalar
		"a: {b: 1}\n",         // flow mapping
		"a: [x, [y]]\n",       // nested flow
		"a: [x, y\n",          // unterminated
		"a: \"x\n",            // unterminated quote
		"a: 'x'y\n",           // garbage after quote
		"a: b: c\n",           // mapping in plain scalar
		"- x\n",               // top-level sequence
		"a: 1\n---\nb: 2\n",   // multiple documents
		"a:\n  - x\n  y: 1\n", // mixed block
		"a: \"\\q\"\n",        // bad escape
		"just text\n",         // not a mapping
	} {
		if _, err := parseYAML([]byte(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func TestParseYAMLEmpty(t *testing.T) {
	root, err := parseYAML([]byte("# only a comment\n\n"))
	if err != nil || len(root.keys) != 0 {
		t.Fatalf("root = %+v, err = %v", root, err)
	}
}
