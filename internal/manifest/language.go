package manifest

import (
	"strconv"
	"strings"
)

// language is what the manifests need of one ISO 639 language: the tag
// players match on and a name for their track menus.
type language struct {
	tag, name string
}

// languages maps the ISO 639-2 codes sources carry (both the bibliographic
// and the terminology form) and the ISO 639-1 codes to the shortest tag, as
// RFC 5646 (HLS LANGUAGE, DASH @lang) asks, and an English name. Codes not
// listed keep their own (lower-cased) tag and use it as the name.
var languages = func() map[string]language {
	m := map[string]language{}
	for _, l := range []struct{ codes, tag, name string }{
		{"eng", "en", "English"}, {"fra fre", "fr", "French"}, {"deu ger", "de", "German"},
		{"spa", "es", "Spanish"}, {"ita", "it", "Italian"}, {"por", "pt", "Portuguese"},
		{"nld dut", "nl", "Dutch"}, {"swe", "sv", "Swedish"}, {"nor", "no", "Norwegian"},
		{"nob", "nb", "Norwegian Bokmål"}, {"dan", "da", "Danish"}, {"fin", "fi", "Finnish"},
		{"isl ice", "is", "Icelandic"}, {"pol", "pl", "Polish"}, {"ces cze", "cs", "Czech"},
		{"slk slo", "sk", "Slovak"}, {"hun", "hu", "Hungarian"}, {"ron rum", "ro", "Romanian"},
		{"bul", "bg", "Bulgarian"}, {"hrv", "hr", "Croatian"}, {"srp", "sr", "Serbian"},
		{"slv", "sl", "Slovenian"}, {"ell gre", "el", "Greek"}, {"tur", "tr", "Turkish"},
		{"rus", "ru", "Russian"}, {"ukr", "uk", "Ukrainian"}, {"heb", "he", "Hebrew"},
		{"ara", "ar", "Arabic"}, {"fas per", "fa", "Persian"}, {"hin", "hi", "Hindi"},
		{"ben", "bn", "Bengali"}, {"tam", "ta", "Tamil"}, {"tha", "th", "Thai"},
		{"vie", "vi", "Vietnamese"}, {"ind", "id", "Indonesian"}, {"msa may", "ms", "Malay"},
		{"zho chi", "zh", "Chinese"}, {"jpn", "ja", "Japanese"}, {"kor", "ko", "Korean"},
		{"cat", "ca", "Catalan"}, {"eus baq", "eu", "Basque"}, {"glg", "gl", "Galician"},
		{"est", "et", "Estonian"}, {"lav", "lv", "Latvian"}, {"lit", "lt", "Lithuanian"},
	} {
		v := language{tag: l.tag, name: l.name}
		m[l.tag] = v
		for _, c := range strings.Fields(l.codes) {
			m[c] = v
		}
	}
	return m
}()

// languageOf returns the tag and display name of a source language code.
// Empty, "und" (undetermined) and codes that are not a plain tag of ASCII
// letters, digits and hyphens give an empty tag: the manifests then leave
// the language out rather than write something players misread.
func languageOf(code string) language {
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" || code == "und" || !plainTag(code) {
		return language{}
	}
	if l, ok := languages[code]; ok {
		return l
	}
	return language{tag: code, name: code}
}

// plainTag reports whether s looks like an RFC 5646 tag: letters first,
// then letters, digits and hyphens, at most 35 characters.
func plainTag(s string) bool {
	if len(s) > 35 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// uniqueNames hands out display names that are unique within one group, as
// HLS requires of the NAME attributes of a GROUP-ID: a repeated name gets
// " 2", " 3", ... appended.
type uniqueNames map[string]bool

// take returns name, made unique.
func (u uniqueNames) take(name string) string {
	n := name
	for i := 2; u[n]; i++ {
		n = name + " " + strconv.Itoa(i)
	}
	u[n] = true
	return n
}

// LanguageName returns the display name the manifests use for a source
// language code (ISO 639-1 or 639-2, e.g. "fra" gives "French"): the code
// itself when it is not in the table, empty for none or "und".
func LanguageName(code string) string { return languageOf(code).name }
