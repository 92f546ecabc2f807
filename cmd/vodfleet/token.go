package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vodfleet/vodfleet/internal/ids"
	"github.com/vodfleet/vodfleet/internal/security"
)

// runToken handles `vodfleet token new --role R --name N`: it prints a new
// token and the token file line (its hash) that admits it.
func runToken(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "new" {
		return errors.New("usage: vodfleet token new --role admin|submitter|readonly|agent --name NAME")
	}
	fs := flag.NewFlagSet("token new", flag.ContinueOnError)
	role := fs.String("role", "", "role of the token: admin, submitter, readonly or agent")
	name := fs.String("name", "", "name of the token's holder (shown in logs, keys the rate limit)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, err := security.ParseRole(*role)
	if err != nil {
		return err
	}
	if !ids.Valid(*name) {
		return fmt.Errorf("--name %q must be 1-64 of [A-Za-z0-9_-]", *name)
	}
	tok, err := security.NewToken()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token: %s\n", tok)
	fmt.Fprintf(stdout, "add this line to the --token-file of the coordinators and storage nodes:\n%s\n", security.TokenLine(tok, r, *name))
	return nil
}
