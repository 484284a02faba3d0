package tag

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/beamline/beamline/transforms/clean"
	"gopkg.in/yaml.v3"
)

// Source describes one input: where it is read, how its records are shaped and which
// metadata tag stamps on them. Definitions are loaded from YAML (or JSON, a subset of it)
// with LoadSources and checked with Validate.
type Source struct {
	// Name identifies the source in records, metrics and dead letters: [a-z0-9_-]{1,64}.
	Name string `yaml:"name" json:"name"`
	// Kind is the record kind, such as web_event or order.
	Kind string `yaml:"kind" json:"kind"`
	// Format is json, csv or text.
	Format string `yaml:"format" json:"format"`
	// Glob (files: local path or gs://) or Subscription (pubsub://projects/P/subscriptions/S); exactly one.
	Glob         string `yaml:"glob,omitempty" json:"glob,omitempty"`
	Subscription string `yaml:"subscription,omitempty" json:"subscription,omitempty"`
	// Attributes are static key/values stamped on every record of the source.
	Attributes map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// EventTime names the payload field holding the event time and its format.
	EventTime EventTimeSpec `yaml:"event_time,omitempty" json:"event_time,omitzero"`
	// SchemaVersion is stamped on records; 0 means 1.
	SchemaVersion int `yaml:"schema_version,omitempty" json:"schema_version,omitempty"`
	// CSV options, for Format csv.
	CSV CSVSpec `yaml:"csv,omitempty" json:"csv,omitzero"`
}

// EventTimeSpec says where a record's event time is and how it is written.
type EventTimeSpec struct {
	// Field is a dotted path into the parsed record, such as ts or meta.time.
	Field string `yaml:"field" json:"field"`
	// Format is one of clean.TimeFormats.
	Format string `yaml:"format" json:"format"`
}

// CSVSpec configures CSV sources.
type CSVSpec struct {
	// Header true: the first line of every file names the columns.
	Header bool `yaml:"header,omitempty" json:"header,omitempty"`
	// Columns names the columns when the files have no header line.
	Columns []string `yaml:"columns,omitempty" json:"columns,omitempty"`
	// Delimiter is a single character; empty means comma.
	Delimiter string `yaml:"delimiter,omitempty" json:"delimiter,omitempty"`
}

// Formats lists the payload formats a source can declare.
var Formats = []string{"json", "csv", "text"}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// FieldError is a problem with one field of one source definition.
type FieldError struct {
	Source string // the source's name, or its position "#3" when it has none
	Field  string
	Msg    string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("source %s: field %s: %s", e.Source, e.Field, e.Msg)
}

// Validate checks s and returns every problem found, each naming the source and the field.
func (s *Source) Validate() error { return s.validate(s.Name) }

func (s *Source) validate(id string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Source: id, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(s.Name) {
		bad("name", "%q must be 1-64 characters of a-z, 0-9, _ or -", s.Name)
	}
	if !slices.Contains(Formats, s.Format) {
		bad("format", "%q is not one of %s", s.Format, strings.Join(Formats, ", "))
	}
	switch {
	case s.Glob == "" && s.Subscription == "":
		bad("glob", "one of glob or subscription is required")
	case s.Glob != "" && s.Subscription != "":
		bad("subscription", "give glob or subscription, not both")
	case s.Subscription != "" && !strings.HasPrefix(s.Subscription, "pubsub://projects/"):
		bad("subscription", "%q must look like pubsub://projects/P/subscriptions/S", s.Subscription)
	}
	if s.EventTime.Field != "" || s.EventTime.Format != "" {
		if s.EventTime.Field == "" {
			bad("event_time.field", "is required when event_time.format is set")
		}
		if err := clean.CheckTimeFormat(s.EventTime.Format); err != nil {
			bad("event_time.format", "%v", err)
		}
	}
	if s.SchemaVersion < 0 {
		bad("schema_version", "%d must be 0 or more", s.SchemaVersion)
	}
	if s.Format == "csv" {
		if !s.CSV.Header && len(s.CSV.Columns) == 0 {
			bad("csv.columns", "a csv source needs csv.header: true or csv.columns")
		}
		if d := []rune(s.CSV.Delimiter); len(d) > 1 || (len(d) == 1 && (d[0] == '"' || d[0] == '\n' || d[0] == '\r')) {
			bad("csv.delimiter", "%q must be one character other than quote or newline", s.CSV.Delimiter)
		}
	} else if s.CSV.Header || len(s.CSV.Columns) > 0 || s.CSV.Delimiter != "" {
		bad("csv", "is only for format csv, not %q", s.Format)
	}
	for k := range s.Attributes {
		if k == "" {
			bad("attributes", "keys must not be empty")
		}
	}
	return errors.Join(errs...)
}

// LoadSources reads source definitions from a YAML or JSON file holding either a list of
// sources or {sources: [...]}. Unknown fields are errors, and so are duplicate names. YAML
// anchors and merge keys (<<: *base) let sources share rules.
func LoadSources(path string) ([]Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Source
	return ParseSources(path, b, &out)
}

// ParseSources is LoadSources over bytes, decoding the list strictly into *into, a pointer to
// a slice of Source or of a struct embedding it inline (see pipelines/ingest), so callers can
// keep their own fields in the same definitions. It returns the Source part of each entry.
func ParseSources(path string, b []byte, into any) ([]Source, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: no sources defined", path)
	}
	wrapped := doc.Content[0].Kind == yaml.MappingNode
	var err error
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if wrapped {
		// {sources: [...]}: decode into a struct whose one field has into's type.
		rv := reflect.ValueOf(into)
		if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Slice {
			panic(fmt.Sprintf("tag.ParseSources: into must point to a slice, not %T", into))
		}
		w := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "Sources", Type: rv.Elem().Type(), Tag: `yaml:"sources"`}}))
		if err = dec.Decode(w.Interface()); err == nil {
			rv.Elem().Set(w.Elem().Field(0))
		}
	} else {
		err = dec.Decode(into)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The Source part of each entry, decoded leniently from the same text.
	var srcs []Source
	if wrapped {
		var w struct {
			Sources []Source `yaml:"sources"`
		}
		err = yaml.Unmarshal(b, &w)
		srcs = w.Sources
	} else {
		err = yaml.Unmarshal(b, &srcs)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i := range srcs {
		id := fmt.Sprintf("#%d", i+1)
		if srcs[i].Name != "" {
			id = fmt.Sprintf("%q", srcs[i].Name)
		}
		if err := srcs[i].validate(id); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
		if seen[srcs[i].Name] {
			errs = append(errs, fmt.Errorf("%s: source %s: field name: defined twice", path, id))
		}
		seen[srcs[i].Name] = true
	}
	if len(srcs) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no sources defined", path))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return srcs, nil
}
