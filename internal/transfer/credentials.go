package transfer

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// credential is one login from the credentials file.
type credential struct {
	login, password string
}

// lookupCredential reads a netrc-style file and returns the entry for
// host (tried as "host:port" first, then "host") and, when user is not
// empty, that login. Tokens are whitespace separated: "machine NAME
// login USER password SECRET", several per line or across lines;
// "default" entries match any host. A missing file name means no
// credentials. Errors never quote the file's content.
func lookupCredential(file, hostport, host, user string) (credential, bool, error) {
	if file == "" {
		return credential{}, false, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return credential{}, false, fmt.Errorf("%w: credentials file: %w", ErrConfig, err)
	}
	defer f.Close()
	var tokens []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		tokens = append(tokens, strings.Fields(line)...)
	}
	if err := sc.Err(); err != nil {
		return credential{}, false, fmt.Errorf("%w: reading credentials file: %w", ErrConfig, err)
	}
	type entry struct {
		machine string
		credential
	}
	var entries []entry
	for i := 0; i < len(tokens); i++ {
		switch tokens[i] {
		case "machine":
			if i+1 < len(tokens) {
				entries = append(entries, entry{machine: tokens[i+1]})
				i++
			}
		case "default":
			entries = append(entries, entry{machine: "*"})
		case "login", "password":
			if len(entries) > 0 && i+1 < len(tokens) {
				if tokens[i] == "login" {
					entries[len(entries)-1].login = tokens[i+1]
				} else {
					entries[len(entries)-1].password = tokens[i+1]
				}
				i++
			}
		}
	}
	for _, want := range []string{hostport, host, "*"} {
		for _, e := range entries {
			if e.machine == want && (user == "" || e.login == user) {
				return e.credential, true, nil
			}
		}
	}
	return credential{}, false, nil
}
