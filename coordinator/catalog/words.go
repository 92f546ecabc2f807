package catalog

import (
	"strings"
	"unicode"
)

// Text search is a token index: title and description are split into
// lowercased words (runs of letters and digits), and every distinct word
// gets an index key i/word/<word>/<asset>. A search for "red car" ranges
// over the index of its longest word and keeps the candidates whose text
// has every word; "car*" ranges over every word starting with "car". Only
// the first maxIndexWords distinct words (title first) are indexed, which
// bounds the keys one write touches.

// maxWordLen drops longer "words" (hashes, URLs) from the index.
const maxWordLen = 48

// maxIndexWords bounds the indexed words of one asset.
const maxIndexWords = 64

// words splits text into lowercased words, in order, each once.
func words(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(w) > maxWordLen || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// indexWords are the words an asset is indexed under.
func indexWords(title, description string) []string {
	ws := words(title + " " + description)
	if len(ws) > maxIndexWords {
		ws = ws[:maxIndexWords]
	}
	return ws
}

// queryWord is one word of a search; prefix words ended in '*'.
type queryWord struct {
	word   string
	prefix bool
}

// parseQuery splits a search text like the indexed text, keeping a
// trailing '*' as a prefix marker.
func parseQuery(q string) []queryWord {
	var out []queryWord
	for _, f := range strings.Fields(q) {
		prefix := strings.HasSuffix(f, "*")
		ws := words(f)
		for i, w := range ws {
			out = append(out, queryWord{word: w, prefix: prefix && i == len(ws)-1})
		}
	}
	return out
}

// matchesText reports whether every query word is in the indexed words of
// title and description.
func matchesText(q []queryWord, title, description string) bool {
	ws := indexWords(title, description)
	for _, qw := range q {
		found := false
		for _, w := range ws {
			if w == qw.word || (qw.prefix && strings.HasPrefix(w, qw.word)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
