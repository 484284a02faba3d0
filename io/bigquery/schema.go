package bigquery

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Schema inference.
//
// bigquery.InferSchema is the reference and a test checks that, on the structs it accepts,
// InferSchema here gives its columns and types. It is not called directly because Beamline
// structs need what it lacks or refuses:
//   - column names from json tags: Beamline's types (record.Failure, parsed rows) carry json
//     tags, and a table should be named as the JSON the same struct produces. A bigquery tag
//     still wins, as with InferSchema.
//   - NULLABLE columns: InferSchema makes every scalar REQUIRED, and a REQUIRED column is a
//     column a struct can never drop or leave empty. Beamline creates NULLABLE (or REPEATED)
//     columns so tables evolve; a nil pointer or a zero time.Time is written as NULL.
//   - pointers to scalars (*string, *int64, *time.Time) as nullable columns; InferSchema
//     rejects them.
//   - money: Beamline normalises amounts to int64 minor units. An integer field tagged
//     numeric:"2" is a NUMERIC column holding the value / 10^2. InferSchema would reject the
//     extra tag option in its bigquery tag, hence a tag key of its own.
//   - map[string]V, json.RawMessage and structs tagged bigquery:",json" are JSON columns.

// NumericTag is the struct tag key that makes an integer field of minor units a NUMERIC
// column: `json:"amount" numeric:"2"` stores 1234 as 12.34. The scale is 0-9, NUMERIC's.
const NumericTag = "numeric"

// SchemaError is a struct that cannot be a BigQuery row: the field path and why.
type SchemaError struct {
	Type  reflect.Type
	Field string
	Err   error
}

func (e *SchemaError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("bigquery: %v cannot be a row: %v", e.Type, e.Err)
	}
	return fmt.Sprintf("bigquery: field %s of %v: %v", e.Field, e.Type, e.Err)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// ErrUnsupportedType is wrapped by a SchemaError for a Go type no column type fits.
var ErrUnsupportedType = errors.New("unsupported Go type")

// InferSchema returns the table schema of struct type T (or *T) as Beamline writes it: see the
// package documentation for the mapping.
func InferSchema[T any]() (bigquery.Schema, error) {
	return SchemaOf(reflect.TypeFor[T]())
}

// SchemaOf is InferSchema for a reflect.Type.
func SchemaOf(t reflect.Type) (bigquery.Schema, error) {
	p, err := planOf(t)
	if err != nil {
		return nil, err
	}
	return p.schema, nil
}

type kind uint8

const (
	kString kind = iota
	kBool
	kInt
	kUint
	kFloat
	kBytes
	kTimestamp  // time.Time
	kDate       // civil.Date
	kDateTime   // civil.DateTime
	kTime       // civil.Time
	kNumericInt // integer minor units with a scale
	kRat        // *big.Rat or big.Rat
	kJSON       // any value marshalled with encoding/json
	kRawJSON    // json.RawMessage
	kRecord
)

// column is one field of a row plan.
type column struct {
	name     string
	index    []int // path through embedded structs
	kind     kind
	ptr      bool // a pointer: nil is NULL
	repeated bool
	elemPtr  bool // the repeated element is a pointer (nil elements are an error)
	scale    int  // kNumericInt
	sub      *plan
	num      int32 // protobuf field number, set by the descriptor
}

// plan is the compiled mapping of a struct type to its columns.
type plan struct {
	typ    reflect.Type
	schema bigquery.Schema
	cols   []column
}

var plans sync.Map // reflect.Type → planOrErr

type planOrErr struct {
	p   *plan
	err error
}

func planOf(t reflect.Type) (*plan, error) {
	if t == nil {
		return nil, &SchemaError{Err: errors.New("no type")}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v, ok := plans.Load(t); ok {
		pe := v.(planOrErr)
		return pe.p, pe.err
	}
	p, err := compile(t, t, "", nil)
	if err == nil {
		var md protoreflect.MessageDescriptor
		if _, md, err = p.descriptor(encoding{}); err == nil {
			err = p.number(md)
		}
	}
	plans.Store(t, planOrErr{p, err})
	return p, err
}

var (
	typeTime     = reflect.TypeFor[time.Time]()
	typeDate     = reflect.TypeFor[civil.Date]()
	typeDateTime = reflect.TypeFor[civil.DateTime]()
	typeTimeOnly = reflect.TypeFor[civil.Time]()
	typeRat      = reflect.TypeFor[big.Rat]()
	typeRaw      = reflect.TypeFor[json.RawMessage]()
	typeBytes    = reflect.TypeFor[[]byte]()
	columnNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,299}$`)
)

func compile(root, t reflect.Type, prefix string, seen []reflect.Type) (*plan, error) {
	if t.Kind() != reflect.Struct {
		return nil, &SchemaError{Type: root, Field: strings.TrimSuffix(prefix, "."), Err: fmt.Errorf("%w: %v is not a struct", ErrUnsupportedType, t)}
	}
	for _, s := range seen {
		if s == t {
			return nil, &SchemaError{Type: root, Field: strings.TrimSuffix(prefix, "."), Err: fmt.Errorf("%v is recursive", t)}
		}
	}
	seen = append(seen, t)
	p := &plan{typ: t}
	names := map[string]string{}
	if err := addFields(root, p, t, nil, prefix, seen, names); err != nil {
		return nil, err
	}
	if len(p.cols) == 0 {
		return nil, &SchemaError{Type: root, Field: strings.TrimSuffix(prefix, "."), Err: fmt.Errorf("%v has no exported fields", t)}
	}
	return p, nil
}

func addFields(root reflect.Type, p *plan, t reflect.Type, index []int, prefix string, seen []reflect.Type, names map[string]string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		bqTag, hasBQ := f.Tag.Lookup("bigquery")
		bqName, bqOpts, _ := strings.Cut(bqTag, ",")
		jsName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if bqName == "-" || (!hasBQ && jsName == "-") {
			continue
		}
		if f.Anonymous && bqName == "" && jsName == "" {
			ft := f.Type
			if ft.Kind() == reflect.Struct {
				if err := addFields(root, p, ft, idx, prefix, seen, names); err != nil {
					return err
				}
				continue
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				return &SchemaError{Type: root, Field: prefix + f.Name, Err: fmt.Errorf("%w: embedded pointer %v (embed the struct or name the field)", ErrUnsupportedType, ft)}
			}
		}
		if !f.IsExported() {
			continue
		}
		name := f.Name
		switch {
		case bqName != "":
			name = bqName
		case jsName != "":
			name = jsName
		}
		path := prefix + f.Name
		if !columnNameRE.MatchString(name) {
			return &SchemaError{Type: root, Field: path, Err: fmt.Errorf("column name %q is not letters, digits and underscores starting with a letter or underscore", name)}
		}
		if prev, dup := names[strings.ToLower(name)]; dup {
			return &SchemaError{Type: root, Field: path, Err: fmt.Errorf("column %q is also the column of field %s (BigQuery names are case-insensitive)", name, prev)}
		}
		names[strings.ToLower(name)] = path
		c := column{name: name, index: idx}
		fs := &bigquery.FieldSchema{Name: name}
		if err := c.infer(root, f, path, bqOpts, seen, fs); err != nil {
			return err
		}
		p.cols = append(p.cols, c)
		p.schema = append(p.schema, fs)
	}
	return nil
}

func (c *column) infer(root reflect.Type, f reflect.StructField, path, bqOpts string, seen []reflect.Type, fs *bigquery.FieldSchema) error {
	fail := func(format string, a ...any) error {
		return &SchemaError{Type: root, Field: path, Err: fmt.Errorf(format, a...)}
	}
	ft := f.Type
	asJSON := false
	for _, o := range strings.Split(bqOpts, ",") {
		switch o {
		case "", "nullable":
		case "json":
			asJSON = true
		default:
			return fail("unknown bigquery tag option %q (known: nullable, json)", o)
		}
	}
	if (ft != typeBytes && ft != typeRaw && ft.Kind() == reflect.Slice) || ft.Kind() == reflect.Array {
		if ft.Kind() == reflect.Array {
			return fail("%w: array %v (use a slice)", ErrUnsupportedType, ft)
		}
		c.repeated = true
		fs.Repeated = true
		ft = ft.Elem()
		if ft.Kind() == reflect.Pointer && ft != typeBytes {
			c.elemPtr = true
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft != typeBytes && ft != typeRaw {
			return fail("%w: a slice of slices (BigQuery has no nested arrays; wrap the inner slice in a struct)", ErrUnsupportedType)
		}
	} else if ft.Kind() == reflect.Pointer {
		c.ptr = true
		ft = ft.Elem()
	}
	if s := f.Tag.Get(NumericTag); s != "" {
		scale, err := strconv.Atoi(s)
		if err != nil || scale < 0 || scale > 9 {
			return fail("tag %s:%q: want a scale from 0 to 9", NumericTag, s)
		}
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		default:
			return fail("tag %s:%q is for integer minor units, not %v", NumericTag, s, ft)
		}
		c.kind, c.scale = kNumericInt, scale
		fs.Type = bigquery.NumericFieldType
		return nil
	}
	if asJSON {
		c.kind = kJSON
		fs.Type = bigquery.JSONFieldType
		return nil
	}
	switch ft {
	case typeTime:
		c.kind, fs.Type = kTimestamp, bigquery.TimestampFieldType
		return nil
	case typeDate:
		c.kind, fs.Type = kDate, bigquery.DateFieldType
		return nil
	case typeDateTime:
		c.kind, fs.Type = kDateTime, bigquery.DateTimeFieldType
		return nil
	case typeTimeOnly:
		c.kind, fs.Type = kTime, bigquery.TimeFieldType
		return nil
	case typeRat:
		c.kind, fs.Type = kRat, bigquery.NumericFieldType
		return nil
	case typeRaw:
		c.kind, fs.Type = kRawJSON, bigquery.JSONFieldType
		return nil
	case typeBytes:
		c.kind, fs.Type = kBytes, bigquery.BytesFieldType
		return nil
	}
	switch ft.Kind() {
	case reflect.String:
		c.kind, fs.Type = kString, bigquery.StringFieldType
	case reflect.Bool:
		c.kind, fs.Type = kBool, bigquery.BooleanFieldType
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.kind, fs.Type = kInt, bigquery.IntegerFieldType
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		c.kind, fs.Type = kUint, bigquery.IntegerFieldType
	case reflect.Float32, reflect.Float64:
		c.kind, fs.Type = kFloat, bigquery.FloatFieldType
	case reflect.Map:
		if ft.Key().Kind() != reflect.String {
			return fail("%w: %v (a JSON column needs string keys)", ErrUnsupportedType, ft)
		}
		c.kind, fs.Type = kJSON, bigquery.JSONFieldType
	case reflect.Struct:
		sub, err := compile(root, ft, path+".", seen)
		if err != nil {
			return err
		}
		c.kind, c.sub = kRecord, sub
		fs.Type, fs.Schema = bigquery.RecordFieldType, sub.schema
	default:
		return fail("%w: %v (uint64 and uint overflow INT64; interfaces have no column type)", ErrUnsupportedType, f.Type)
	}
	return nil
}
