package config

import (
	"fmt"
	"strconv"
	"strings"
)

// A small, strict parser for the YAML subset etcd's sample configuration
// file (etcd.conf.yml.sample) uses, because no YAML module is available:
//
//   - block mappings ("key: value"), nested by indentation with spaces;
//   - scalars: plain, 'single-quoted' ('' escapes ') and "double-quoted"
//     (Go/YAML backslash escapes); empty, "~" and "null" are null;
//   - flow sequences of scalars ("[a, b]"), possibly over several lines;
//   - block sequences of scalars ("- a");
//   - comments ("# ..." at line start or after whitespace), blank lines, and
//     a leading "---".
//
// Anything else (anchors, aliases, tags, block scalars, flow mappings,
// multiple documents, tabs in indentation, duplicate keys) is an error.

type yamlKind int

const (
	yamlNull yamlKind = iota
	yamlScalar
	yamlList
	yamlMap
)

// yamlNode is a parsed value.
type yamlNode struct {
	kind   yamlKind
	scalar string   // yamlScalar
	list   []string // yamlList
	keys   []string // yamlMap, in file order
	fields map[string]*yamlNode
	line   int
}

type yamlLine struct {
	num    int // 1-based
	indent int
	text   string // without indentation and comment
}

// parseYAML parses a document whose top level is a mapping (or empty).
func parseYAML(data []byte) (*yamlNode, error) {
	lines, err := yamlLines(string(data))
	if err != nil {
		return nil, err
	}
	p := &yamlParser{lines: lines}
	root := &yamlNode{kind: yamlMap, fields: map[string]*yamlNode{}, line: 1}
	if len(lines) == 0 {
		return root, nil
	}
	if lines[0].indent != 0 {
		return nil, fmt.Errorf("line %d: unexpected indentation", lines[0].num)
	}
	if err := p.parseMap(root, 0); err != nil {
		return nil, err
	}
	if p.pos < len(p.lines) {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.lines[p.pos].num)
	}
	return root, nil
}

// yamlLines splits the input into significant lines, removing comments.
func yamlLines(s string) ([]yamlLine, error) {
	var out []yamlLine
	for i, raw := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		num := i + 1
		body := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(body)
		if strings.HasPrefix(body, "\t") {
			return nil, fmt.Errorf("line %d: tabs are not allowed in indentation", num)
		}
		text, err := stripComment(body)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		text = strings.TrimRight(text, " \t")
		if text == "" {
			continue
		}
		if text == "---" && indent == 0 {
			if len(out) > 0 {
				return nil, fmt.Errorf("line %d: multiple documents are not supported", num)
			}
			continue
		}
		if text == "..." && indent == 0 {
			return nil, fmt.Errorf("line %d: document end marker is not supported", num)
		}
		out = append(out, yamlLine{num: num, indent: indent, text: text})
	}
	return out, nil
}

// stripComment removes a trailing comment, respecting quotes.
func stripComment(s string) (string, error) {
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote == '\'':
			if ch == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			}
		case quote == '"':
			if ch == '\\' {
				i++
			} else if ch == '"' {
				quote = 0
			}
		case ch == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i], nil
		case ch == '\'' || ch == '"':
			// Quotes only open a quoted scalar at the start of a value.
			if i == 0 || strings.ContainsRune(" [,:-", rune(s[i-1])) {
				quote = ch
			}
		}
	}
	if quote != 0 {
		return "", fmt.Errorf("unterminated quoted string")
	}
	return s, nil
}

type yamlParser struct {
	lines []yamlLine
	pos   int
}

// parseMap reads "key: value" lines at exactly indent into m.
func (p *yamlParser) parseMap(m *yamlNode, indent int) error {
	for p.pos < len(p.lines) {
		ln := p.lines[p.pos]
		if ln.indent < indent {
			return nil
		}
		if ln.indent > indent {
			return fmt.Errorf("line %d: unexpected indentation", ln.num)
		}
		if strings.HasPrefix(ln.text, "- ") || ln.text == "-" {
			return fmt.Errorf("line %d: unexpected sequence item", ln.num)
		}
		key, rest, err := splitKey(ln.text)
		if err != nil {
			return fmt.Errorf("line %d: %w", ln.num, err)
		}
		if _, dup := m.fields[key]; dup {
			return fmt.Errorf("line %d: duplicate key %q", ln.num, key)
		}
		p.pos++
		val, err := p.parseValue(rest, ln, indent)
		if err != nil {
			return err
		}
		m.keys = append(m.keys, key)
		m.fields[key] = val
	}
	return nil
}

// parseValue parses what follows "key:" on line ln (and maybe later lines).
func (p *yamlParser) parseValue(rest string, ln yamlLine, indent int) (*yamlNode, error) {
	if rest == "" {
		if p.pos < len(p.lines) {
			next := p.lines[p.pos]
			isItem := strings.HasPrefix(next.text, "- ") || next.text == "-"
			switch {
			case next.indent >= indent && isItem:
				return p.parseBlockList(next.indent, ln.num)
			case next.indent > indent:
				child := &yamlNode{kind: yamlMap, fields: map[string]*yamlNode{}, line: next.num}
				if err := p.parseMap(child, next.indent); err != nil {
					return nil, err
				}
				return child, nil
			}
		}
		return &yamlNode{kind: yamlNull, line: ln.num}, nil
	}
	if rest[0] == '[' {
		return p.parseFlowList(rest, ln)
	}
	s, null, err := parseScalar(rest)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", ln.num, err)
	}
	if null {
		return &yamlNode{kind: yamlNull, line: ln.num}, nil
	}
	return &yamlNode{kind: yamlScalar, scalar: s, line: ln.num}, nil
}

// parseBlockList reads "- item" lines at exactly indent.
func (p *yamlParser) parseBlockList(indent, line int) (*yamlNode, error) {
	n := &yamlNode{kind: yamlList, list: []string{}, line: line}
	for p.pos < len(p.lines) {
		ln := p.lines[p.pos]
		if ln.indent != indent || !(strings.HasPrefix(ln.text, "- ") || ln.text == "-") {
			break
		}
		p.pos++
		s, null, err := parseScalar(strings.TrimSpace(strings.TrimPrefix(ln.text, "-")))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln.num, err)
		}
		if null {
			return nil, fmt.Errorf("line %d: empty sequence item", ln.num)
		}
		n.list = append(n.list, s)
	}
	if p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.lines[p.pos].num)
	}
	return n, nil
}

// parseFlowList reads "[a, b, ...]", joining continuation lines.
func (p *yamlParser) parseFlowList(rest string, ln yamlLine) (*yamlNode, error) {
	text := rest
	for !strings.HasSuffix(text, "]") {
		if p.pos >= len(p.lines) {
			return nil, fmt.Errorf("line %d: unterminated flow sequence", ln.num)
		}
		text += " " + p.lines[p.pos].text
		p.pos++
	}
	inner := strings.TrimSpace(text[1 : len(text)-1])
	n := &yamlNode{kind: yamlList, list: []string{}, line: ln.num}
	if inner == "" {
		return n, nil
	}
	items, err := splitFlow(inner)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", ln.num, err)
	}
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue // a trailing comma is allowed
		}
		if strings.ContainsAny(it[:1], "[{") {
			return nil, fmt.Errorf("line %d: nested collections are not supported", ln.num)
		}
		s, null, err := parseScalar(it)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln.num, err)
		}
		if null {
			return nil, fmt.Errorf("line %d: null sequence item", ln.num)
		}
		n.list = append(n.list, s)
	}
	return n, nil
}

// splitFlow splits flow sequence items on commas outside quotes.
func splitFlow(s string) ([]string, error) {
	var items []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote == '\'':
			if ch == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			}
		case quote == '"':
			if ch == '\\' {
				i++
			} else if ch == '"' {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == ',':
			items = append(items, s[start:i])
			start = i + 1
		case ch == ']' || ch == '[' || ch == '{' || ch == '}':
			return nil, fmt.Errorf("nested collections are not supported")
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quoted string")
	}
	return append(items, s[start:]), nil
}

// splitKey splits "key: rest" (or "key:").
func splitKey(text string) (key, rest string, err error) {
	if text[0] == '"' || text[0] == '\'' {
		end := closingQuote(text)
		if end < 0 {
			return "", "", fmt.Errorf("unterminated quoted key")
		}
		k, _, err := parseScalar(text[:end+1])
		if err != nil {
			return "", "", err
		}
		after := text[end+1:]
		if !strings.HasPrefix(after, ":") || (len(after) > 1 && after[1] != ' ') {
			return "", "", fmt.Errorf(`expected ":" after key`)
		}
		return k, strings.TrimSpace(after[1:]), nil
	}
	i := strings.Index(text, ": ")
	if i < 0 {
		if !strings.HasSuffix(text, ":") {
			return "", "", fmt.Errorf("expected \"key: value\", got %q", text)
		}
		i = len(text) - 1
	}
	key = strings.TrimSpace(text[:i])
	if key == "" || strings.ContainsAny(key[:1], "?&*!|>%@`{[") {
		return "", "", fmt.Errorf("unsupported key %q", key)
	}
	return key, strings.TrimSpace(text[i+1:]), nil
}

// closingQuote returns the index of the quote closing text[0], or -1.
func closingQuote(text string) int {
	q := text[0]
	for i := 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q:
			if q == '\'' && i+1 < len(text) && text[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return -1
}

// parseScalar parses a single scalar; null reports "", "~" or "null".
func parseScalar(s string) (val string, null bool, err error) {
	if s == "" || s == "~" || s == "null" || s == "Null" || s == "NULL" {
		return "", true, nil
	}
	switch s[0] {
	case '\'':
		if end := closingQuote(s); end != len(s)-1 {
			return "", false, fmt.Errorf("malformed single-quoted string %s", s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), false, nil
	case '"':
		if end := closingQuote(s); end != len(s)-1 {
			return "", false, fmt.Errorf("malformed double-quoted string %s", s)
		}
		v, err := strconv.Unquote(s)
		if err != nil {
			return "", false, fmt.Errorf("malformed double-quoted string %s: %w", s, err)
		}
		return v, false, nil
	case '&', '*', '!', '|', '>', '{', '@', '`', '%':
		return "", false, fmt.Errorf("unsupported YAML syntax %q", s)
	}
	if strings.Contains(s, ": ") {
		return "", false, fmt.Errorf("unexpected %q in plain scalar %q", ": ", s)
	}
	return s, false, nil
}
