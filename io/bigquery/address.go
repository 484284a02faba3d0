package bigquery

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Scheme is the address scheme of a BigQuery table: bq://project.dataset.table.
const Scheme = "bq://"

// Table names one BigQuery table.
type Table struct {
	Project string `json:"project"`
	Dataset string `json:"dataset"`
	Table   string `json:"table"`
}

// String is the table's address, bq://project.dataset.table.
func (t Table) String() string { return Scheme + t.Project + "." + t.Dataset + "." + t.Table }

// SQL is the table's name quoted for GoogleSQL: `project.dataset.table`.
func (t Table) SQL() string { return "`" + t.Project + "." + t.Dataset + "." + t.Table + "`" }

// streamParent is the table's resource name for the Storage Write API.
func (t Table) streamParent() string {
	return "projects/" + t.Project + "/datasets/" + t.Dataset + "/tables/" + t.Table
}

// ErrBadAddress is wrapped by every AddressError.
var ErrBadAddress = errors.New("bad BigQuery table address")

// AddressError says what is wrong with a table address and how to write it.
type AddressError struct {
	Address string
	Reason  string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("%q is not a BigQuery table address: %s (want bq://project.dataset.table, e.g. bq://my-project.sales.orders)", e.Address, e.Reason)
}

func (e *AddressError) Unwrap() error { return ErrBadAddress }

var (
	// Project IDs: 6-30 lowercase letters, digits and hyphens; domain-scoped ones carry "example.com:".
	projectRE = regexp.MustCompile(`^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	datasetRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// Table names may hold Unicode letters, marks, numbers, connectors, dashes and spaces.
	tableRE = regexp.MustCompile(`^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]+$`)
)

// ParseTable parses bq://project.dataset.table. The errors name the usual flag mistakes: a
// missing scheme, the colon form of the bq tool (project:dataset.table), or a missing part.
func ParseTable(addr string) (Table, error) {
	fail := func(reason string) (Table, error) { return Table{}, &AddressError{Address: addr, Reason: reason} }
	rest, ok := strings.CutPrefix(addr, Scheme)
	switch {
	case addr == "":
		return fail("it is empty")
	case !ok && strings.Contains(addr, "://"):
		return fail("the scheme must be bq://")
	case !ok:
		return fail("the bq:// scheme is missing")
	}
	// A domain-scoped project (example.com:my-project) contains a dot, so the table and the
	// dataset are taken from the right.
	i := strings.LastIndex(rest, ".")
	if i < 0 {
		return fail("it needs three dot-separated parts, project.dataset.table")
	}
	j := strings.LastIndex(rest[:i], ".")
	if j < 0 {
		if strings.Contains(rest[:i], ":") {
			return fail("the project:dataset form of the bq tool is not an address; put a dot after the project")
		}
		return fail("it needs three dot-separated parts, project.dataset.table; the project is missing")
	}
	t := Table{Project: rest[:j], Dataset: rest[j+1 : i], Table: rest[i+1:]}
	switch {
	case t.Project == "" || t.Dataset == "" || t.Table == "":
		return fail("a part is empty")
	case strings.Contains(t.Table, "/"):
		return fail("the table name contains a slash")
	case !projectRE.MatchString(t.Project):
		return fail(fmt.Sprintf("project %q is not a project ID (6-30 lowercase letters, digits and hyphens)", t.Project))
	case len(t.Dataset) > 1024 || len(t.Table) > 1024:
		return fail("a dataset or table name is longer than 1024 characters")
	case !datasetRE.MatchString(t.Dataset):
		return fail(fmt.Sprintf("dataset %q may hold only letters, digits and underscores", t.Dataset))
	case !tableRE.MatchString(t.Table):
		return fail(fmt.Sprintf("table %q holds characters a table name cannot", t.Table))
	}
	return t, nil
}

// mustParseTable is ParseTable for construction time: a bad address is a programming or flag
// mistake, so it panics with a sentence naming the argument.
func mustParseTable(fn, table string) Table {
	t, err := ParseTable(table)
	if err != nil {
		panic(fmt.Sprintf("%s: argument table: %v", fn, err))
	}
	return t
}
