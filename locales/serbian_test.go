package locales_test

import (
	"strings"
	"testing"
	"unicode"
)

// serbianCyrillic is Serbian's Cyrillic alphabet in order, each letter
// with its Latin counterpart (Vuk's and Gaj's alphabets map one to one).
var serbianCyrillic = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'ђ': "đ", 'е': "e", 'ж': "ž", 'з': "z", 'и': "i",
	'ј': "j", 'к': "k", 'л': "l", 'љ': "lj", 'м': "m", 'н': "n", 'њ': "nj", 'о': "o", 'п': "p", 'р': "r",
	'с': "s", 'т': "t", 'ћ': "ć", 'у': "u", 'ф': "f", 'х': "h", 'ц': "c", 'ч': "č", 'џ': "dž", 'ш': "š",
}

// serbianLatin writes Serbian Cyrillic text in Latin letters; anything
// else (names such as Chrome, placeholders, markup) is left as it is.
// A capital digraph letter is "Lj" before lower case and "LJ" in a word in
// capitals.
func serbianLatin(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		lat, ok := serbianCyrillic[unicode.ToLower(r)]
		if !ok {
			b.WriteRune(r)
			continue
		}
		if unicode.IsUpper(r) {
			if len(lat) > 1 && i+1 < len(rs) && unicode.IsUpper(rs[i+1]) {
				lat = strings.ToUpper(lat)
			} else {
				first := []rune(lat)
				lat = string(unicode.ToUpper(first[0])) + string(first[1:])
			}
		}
		b.WriteString(lat)
	}
	return b.String()
}

func TestSerbianLatin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Колачићи и подаци о сајтовима", "Kolačići i podaci o sajtovima"},
		{"Љубљана, Њујорк, Џеп", "Ljubljana, Njujork, Džep"},
		{"ЉУБАВ", "LJUBAV"},
		{"У прегледачу Chrome: {{.Code}}", "U pregledaču Chrome: {{.Code}}"},
		{"ђак, ћерка, џем, љуљашка", "đak, ćerka, džem, ljuljaška"},
	} {
		if got := serbianLatin(tc.in); got != tc.want {
			t.Errorf("serbianLatin(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestSerbianScriptsAgree: Serbian is one language in two scripts, so
// sr-Latn says exactly what sr says, letter for letter, and carries no
// Cyrillic.
func TestSerbianScriptsAgree(t *testing.T) {
	cyr := readMessages(t, "active.sr.toml")
	lat := readMessages(t, "active.sr-Latn.toml")
	for id, forms := range cyr {
		for form, text := range forms {
			if form == "description" {
				continue
			}
			if got, want := lat[id][form], serbianLatin(text); got != want {
				t.Errorf("sr-Latn %s %s = %q; want %q (sr transliterated)", id, form, got, want)
			}
		}
	}
	for id, forms := range lat {
		for form, text := range forms {
			if _, ok := cyr[id][form]; !ok {
				t.Errorf("sr-Latn %s %s is not in sr", id, form)
			}
			if strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
				t.Errorf("sr-Latn %s %s = %q has Cyrillic letters", id, form, text)
			}
		}
	}
}
