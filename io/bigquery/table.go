package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// TableOptions shape a table EnsureTable creates. They do not change an existing table.
type TableOptions struct {
	// PartitionField is a TIMESTAMP or DATE column to partition by day; empty: no partitioning.
	PartitionField string `json:"partition_field,omitempty"`
	// PartitionExpiration drops partitions older than this; 0 keeps them.
	PartitionExpiration time.Duration `json:"partition_expiration,omitempty"`
	// Clustering lists up to four columns to cluster by.
	Clustering  []string `json:"clustering,omitempty"`
	Description string   `json:"description,omitempty"`
}

// ErrIncompatibleColumn is wrapped by a ColumnError.
var ErrIncompatibleColumn = errors.New("existing column is incompatible")

// ColumnError is an existing column whose type or mode the rows cannot be written into.
// EnsureTable never drops or changes a column, so this needs a person.
type ColumnError struct {
	Table  Table
	Column string
	Have   string // the table's type and mode
	Want   string // the struct's
}

func (e *ColumnError) Error() string {
	return fmt.Sprintf("bigquery: column %s of %s is %s but the rows have %s; Beamline never changes a column: migrate the table or rename the field", e.Column, e.Table, e.Have, e.Want)
}

func (e *ColumnError) Unwrap() error { return ErrIncompatibleColumn }

// EnsureTable makes t ready for rows of schema: it creates the table with opts if it is
// missing, and adds the columns of schema the table lacks as NULLABLE (or REPEATED) columns.
// It never drops or changes a column: an existing column of an incompatible type is a
// *ColumnError. It returns the names of the columns it added (all of them on creation).
// Concurrent callers are safe: a lost creation race or schema update is re-read and retried.
func EnsureTable(ctx context.Context, c *bigquery.Client, t Table, schema bigquery.Schema, opts TableOptions) (added []string, err error) {
	if err := checkOptions(schema, opts); err != nil {
		return nil, err
	}
	ref := c.DatasetInProject(t.Project, t.Dataset).Table(t.Table)
	for attempt := 0; ; attempt++ {
		md, err := ref.Metadata(ctx)
		if isStatus(err, http.StatusNotFound) {
			err = ref.Create(ctx, createMetadata(schema, opts))
			if err == nil {
				return columnNames(schema), nil
			}
			if isStatus(err, http.StatusConflict) && attempt < 5 {
				continue // created meanwhile: evolve it
			}
			return nil, fmt.Errorf("bigquery: creating %s: %w", t, err)
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery: reading %s: %w", t, err)
		}
		merged, added, err := mergeSchema(t, "", md.Schema, schema)
		if err != nil || len(added) == 0 {
			return nil, err
		}
		_, err = ref.Update(ctx, bigquery.TableMetadataToUpdate{Schema: merged}, md.ETag)
		if isStatus(err, http.StatusPreconditionFailed) && attempt < 5 {
			continue // someone else changed the table: merge again
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery: adding columns %s to %s: %w", strings.Join(added, ", "), t, err)
		}
		if err := verifyAdded(ctx, ref, t, added); err != nil {
			return nil, err
		}
		return added, nil
	}
}

// ErrSchemaNotApplied is returned when the server accepted a schema update but the columns
// are not there when the table is read back.
var ErrSchemaNotApplied = errors.New("the server accepted the new columns but did not add them")

// verifyAdded re-reads the table after a schema update. goccy/bigquery-emulator v0.6.6 answers
// tables.patch with the request but stores nothing (internal/metadata/table.go, Table.Update
// ignores the new metadata; tables.update and ALTER TABLE are unsupported there), and writing
// on as if the columns existed would lose their values silently.
func verifyAdded(ctx context.Context, ref *bigquery.Table, t Table, added []string) error {
	md, err := ref.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: reading %s after adding columns: %w", t, err)
	}
	var missing []string
	for _, name := range added {
		if !hasPath(md.Schema, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("bigquery: adding columns %s to %s: %w", strings.Join(missing, ", "), t, ErrSchemaNotApplied)
	}
	return nil
}

func hasPath(s bigquery.Schema, path string) bool {
	head, rest, nested := strings.Cut(path, ".")
	f := find(s, head)
	if f == nil || !nested {
		return f != nil
	}
	return hasPath(f.Schema, rest)
}

func checkOptions(schema bigquery.Schema, o TableOptions) error {
	if o.PartitionField != "" {
		f := find(schema, o.PartitionField)
		if f == nil || f.Repeated || (f.Type != bigquery.TimestampFieldType && f.Type != bigquery.DateFieldType) {
			return fmt.Errorf("bigquery: partition field %q must be a TIMESTAMP or DATE column of the rows", o.PartitionField)
		}
	}
	if len(o.Clustering) > 4 {
		return fmt.Errorf("bigquery: %d clustering columns; BigQuery allows at most 4", len(o.Clustering))
	}
	for _, name := range o.Clustering {
		if f := find(schema, name); f == nil || f.Repeated || f.Type == bigquery.RecordFieldType || f.Type == bigquery.JSONFieldType || f.Type == bigquery.FloatFieldType {
			return fmt.Errorf("bigquery: clustering column %q must be a top-level, non-repeated column of a clusterable type", name)
		}
	}
	return nil
}

func createMetadata(schema bigquery.Schema, o TableOptions) *bigquery.TableMetadata {
	md := &bigquery.TableMetadata{Schema: schema, Description: o.Description}
	if o.PartitionField != "" {
		md.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: o.PartitionField, Expiration: o.PartitionExpiration}
	}
	if len(o.Clustering) > 0 {
		md.Clustering = &bigquery.Clustering{Fields: o.Clustering}
	}
	return md
}

func find(s bigquery.Schema, name string) *bigquery.FieldSchema {
	for _, f := range s {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func columnNames(s bigquery.Schema) []string {
	var out []string
	for _, f := range s {
		out = append(out, f.Name)
	}
	return out
}

// mergeSchema returns have plus the columns of want it lacks (NULLABLE), and their names.
func mergeSchema(t Table, prefix string, have, want bigquery.Schema) (bigquery.Schema, []string, error) {
	merged := make(bigquery.Schema, 0, len(have)+len(want))
	for _, f := range have {
		g := *f
		merged = append(merged, &g)
	}
	var added []string
	for _, w := range want {
		h := find(merged, w.Name)
		if h == nil {
			n := *w
			n.Required = false
			merged = append(merged, &n)
			added = append(added, prefix+w.Name)
			continue
		}
		if !compatible(h, w) {
			return nil, nil, &ColumnError{Table: t, Column: prefix + h.Name, Have: describe(h), Want: describe(w)}
		}
		if h.Type == bigquery.RecordFieldType {
			sub, subAdded, err := mergeSchema(t, prefix+h.Name+".", h.Schema, w.Schema)
			if err != nil {
				return nil, nil, err
			}
			h.Schema = sub
			added = append(added, subAdded...)
		}
	}
	return merged, added, nil
}

// compatible reports whether values of column w can be written into column h. Beyond equal
// types, a STRING may feed the types BigQuery parses from text (the Storage Write API and load
// jobs both do), integers feed NUMERIC, and NUMERIC feeds BIGNUMERIC. REQUIRED
// columns accept a NULLABLE field: a row that leaves one empty is refused on its own.
func compatible(h, w *bigquery.FieldSchema) bool {
	if h.Repeated != w.Repeated {
		return false
	}
	if h.Type == w.Type {
		return true
	}
	switch w.Type {
	case bigquery.StringFieldType:
		switch h.Type {
		case bigquery.DateFieldType, bigquery.DateTimeFieldType, bigquery.TimeFieldType,
			bigquery.NumericFieldType, bigquery.BigNumericFieldType, bigquery.JSONFieldType,
			bigquery.GeographyFieldType:
			return true
		}
	case bigquery.IntegerFieldType:
		return h.Type == bigquery.NumericFieldType || h.Type == bigquery.BigNumericFieldType
	case bigquery.NumericFieldType:
		return h.Type == bigquery.BigNumericFieldType
	}
	return false
}

func describe(f *bigquery.FieldSchema) string {
	mode := "NULLABLE"
	switch {
	case f.Repeated:
		mode = "REPEATED"
	case f.Required:
		mode = "REQUIRED"
	}
	return fmt.Sprintf("%s %s", mode, f.Type)
}

func isStatus(err error, code int) bool {
	var e *googleapi.Error
	return errors.As(err, &e) && e.Code == code
}
