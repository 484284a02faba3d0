package clean

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/record"
	gojson "github.com/goccy/go-json"
	"golang.org/x/text/currency"
)

// Schema parses, validates and normalises records into a Go struct type T: the typed path,
// for sources whose shape is known. It takes the same Rule and NormaliseSpec declarations as
// the generic map path, resolved once against T's JSON field names, so the per-record work is
// a struct decode and a few field reads — about as cheap as the same code written by hand
// (see BenchmarkOrderLibrary).
//
// Differences from the map path, forced by static types:
//   - A field is missing when it holds its zero value ("" or nil; use a pointer to tell a
//     0 from an absent number). Type rules are enforced by the decoder: a JSON value that does
//     not fit the Go field is rejected as wrong_type:<field>.
//   - Money needs Out, an int64 field for the minor units; the amount field is kept.
//   - Custom checks are Go functions of *T (Checks), not registered names.
type Schema[T any] struct {
	parse   ParseSpec
	rules   []typedRule
	checks  []func(*T) error
	norm    typedNorm
	trim    *trimPlan
	fieldOf map[string]string // Go field path → rule field name, for decoder errors
}

type typedRule struct {
	compiledRule
	idx []int
}

type typedNorm struct {
	lower, upper, emails, hosts []typedField
	times                       []typedTime
	money                       []typedMoney
}

type typedField struct {
	name string
	idx  []int
}

type typedTime struct {
	typedField
	format string
}

type typedMoney struct {
	amount, cur, out typedField
	code             currency.Unit
}

// NewSchema resolves rules, norm and checks against T, which must be a struct. Every error
// names the rule's field and what is wrong.
func NewSchema[T any](rules []Rule, norm NormaliseSpec, checks ...func(*T) error) (*Schema[T], error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("clean.NewSchema: %s is not a struct type", t)
	}
	s := &Schema[T]{parse: ParseSpec{Format: "json", MaxBytes: DefaultMaxBytes}, checks: checks, fieldOf: map[string]string{}}
	var errs []error
	resolve := func(what, name string, kinds ...reflect.Kind) []int {
		idx, ft, err := fieldIndex(t, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", what, name, err))
			return nil
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if len(kinds) > 0 && !slices.Contains(kinds, ft.Kind()) {
			errs = append(errs, fmt.Errorf("%s %q: field is %s, want one of %v", what, name, ft, kinds))
		}
		return idx
	}
	v, err := NewValidator(withoutChecks(rules))
	if err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range v.rules {
			s.rules = append(s.rules, typedRule{compiledRule: r, idx: resolve("rule", r.Field)})
		}
	}
	for _, r := range rules {
		if r.Check != "" {
			errs = append(errs, fmt.Errorf("rule check %q: a Schema takes Go checks of *%s, not registered names", r.Check, t.Name()))
		}
	}
	str := []reflect.Kind{reflect.String}
	for _, f := range norm.Lower {
		s.norm.lower = append(s.norm.lower, typedField{f, resolve("normalise.lower", f, str...)})
	}
	for _, f := range norm.Upper {
		s.norm.upper = append(s.norm.upper, typedField{f, resolve("normalise.upper", f, str...)})
	}
	for _, f := range norm.Emails {
		s.norm.emails = append(s.norm.emails, typedField{f, resolve("normalise.emails", f, str...)})
	}
	for _, f := range norm.Hosts {
		s.norm.hosts = append(s.norm.hosts, typedField{f, resolve("normalise.hosts", f, str...)})
	}
	for _, tf := range norm.Timestamps {
		if err := CheckTimeFormat(tf.Format); err != nil {
			errs = append(errs, fmt.Errorf("normalise.timestamps %q: %w", tf.Field, err))
		}
		s.norm.times = append(s.norm.times, typedTime{typedField{tf.Field, resolve("normalise.timestamps", tf.Field, str...)}, tf.Format})
	}
	for _, m := range norm.Money {
		tm := typedMoney{amount: typedField{m.Amount, resolve("normalise.money.amount", m.Amount, reflect.String, reflect.Float64)}}
		if m.Out == "" {
			errs = append(errs, fmt.Errorf("normalise.money %q: out, an int64 field for the minor units, is required with a struct type", m.Amount))
		} else {
			tm.out = typedField{m.Out, resolve("normalise.money.out", m.Out, reflect.Int64)}
		}
		switch {
		case (m.Currency == "") == (m.Code == ""):
			errs = append(errs, fmt.Errorf("normalise.money %q: give exactly one of currency or code", m.Amount))
		case m.Code != "":
			if tm.code, err = currency.ParseISO(m.Code); err != nil {
				errs = append(errs, fmt.Errorf("normalise.money %q: code %q is not an ISO 4217 currency", m.Amount, m.Code))
			}
		default:
			tm.cur = typedField{m.Currency, resolve("normalise.money.currency", m.Currency, str...)}
		}
		s.norm.money = append(s.norm.money, tm)
	}
	if norm.Trim {
		s.trim = newTrimPlan(t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("clean.NewSchema[%s]: %w", t, err)
	}
	return s, nil
}

func withoutChecks(rules []Rule) []Rule {
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if r.Field != "" {
			r.Check = ""
			out = append(out, r)
		}
	}
	return out
}

// fieldIndex resolves a dotted JSON path to a field index path through nested structs.
func fieldIndex(t reflect.Type, dotted string) ([]int, reflect.Type, error) {
	var idx []int
	for _, name := range strings.Split(dotted, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, nil, fmt.Errorf("%s is inside %s, not a struct", name, t)
		}
		f, ok := jsonField(t, name)
		if !ok {
			return nil, nil, fmt.Errorf("no field with JSON name %q in %s", name, t)
		}
		idx = append(idx, f.Index...)
		t = f.Type
	}
	return idx, t, nil
}

func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// field returns the value at idx, following pointers; ok is false when a pointer on the way
// is nil.
func field(v reflect.Value, idx []int) (reflect.Value, bool) {
	v, ok, _ := fieldPresent(v, idx)
	return v, ok
}

// fieldPresent is field, also telling whether the field is present: a non-nil pointer, or a
// non-zero value.
func fieldPresent(v reflect.Value, idx []int) (reflect.Value, bool, bool) {
	for _, i := range idx {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	pointer := v.Kind() == reflect.Pointer
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}, false, false
		}
		v = v.Elem()
	}
	return v, true, pointer || !v.IsZero()
}

// Parse decodes payload into a T, then validates and normalises it.
func (s *Schema[T]) Parse(payload []byte) (T, *Error) {
	var out T
	if err := CheckBytes(payload, s.parse.MaxBytes, false); err != nil {
		return out, err
	}
	if err := jsonx.Unmarshal(payload, &out); err != nil {
		return out, s.decodeError(err)
	}
	if err := s.Validate(&out); err != nil {
		return out, err
	}
	return out, s.Normalise(&out)
}

// ParseRecord is Parse on r's payload.
// A record the reader marked (ReadError) is refused with the reader's reason.
func (s *Schema[T]) ParseRecord(r *record.Record) (T, *Error) {
	if err := ReadError(r); err != nil {
		var zero T
		return zero, err
	}
	return s.Parse(r.Payload)
}

func (s *Schema[T]) decodeError(err error) *Error {
	var ute *gojson.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field == "" {
			return reject(ReasonJSONNotObject, err, "JSON %s is not an object", ute.Value)
		}
		return reject(fieldReason(ReasonWrongType, withoutIndexes(ute.Field)), err, "field %s is JSON %s, want %s", ute.Field, ute.Value, ute.Type)
	}
	return jsonError(err)
}

// withoutIndexes drops array indexes from a decoder's field path (items.3.qty → items.qty),
// so reason codes stay a small fixed set.
func withoutIndexes(path string) string {
	parts := strings.Split(path, ".")
	out := parts[:0]
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

// Validate applies the rules and checks to *v.
func (s *Schema[T]) Validate(v *T) *Error {
	rv := reflect.ValueOf(v).Elem()
	for i := range s.rules {
		r := &s.rules[i]
		fv, _, present := fieldPresent(rv, r.idx)
		if !present {
			if r.Required {
				return reject(fieldReason(ReasonMissingField, r.Field), nil, "field %s is required", r.Field)
			}
			continue
		}
		if err := r.typedValue(fv); err != nil {
			return err
		}
	}
	for _, c := range s.checks {
		if err := c(v); err != nil {
			return AsError(err, "go")
		}
	}
	return nil
}

func (r *typedRule) typedValue(v reflect.Value) *Error {
	f := r.Field
	if r.Min != nil || r.Max != nil || (r.Type == "number" || r.Type == "integer") && v.Kind() == reflect.String {
		x, ok := reflectNumber(v)
		if !ok {
			return reject(fieldReason(ReasonWrongType, f), nil, "field %s = %v is not a number", f, v)
		}
		if r.Type == "integer" && x != math.Trunc(x) {
			return reject(fieldReason(ReasonWrongType, f), nil, "field %s = %v is not an integer", f, v)
		}
		if (r.Min != nil && x < *r.Min) || (r.Max != nil && x > *r.Max) {
			return reject(fieldReason(ReasonOutOfRange, f), nil, "field %s = %v is outside [%s, %s]", f, v, bound(r.Min, "-inf"), bound(r.Max, "+inf"))
		}
	}
	if v.Kind() == reflect.String {
		s := v.String()
		if r.re != nil && !r.re.MatchString(s) {
			return reject(fieldReason(ReasonBadFormat, f), nil, "field %s = %q does not match %s", f, clip(s), r.Regex)
		}
		if r.enum != nil {
			if _, found := slices.BinarySearch(r.enum, s); !found {
				return reject(fieldReason(ReasonNotAllowed, f), nil, "field %s = %q is not one of %s", f, clip(s), strings.Join(r.Enum, ", "))
			}
		}
		if r.MaxLen > 0 && utf8.RuneCountInString(s) > r.MaxLen {
			return reject(fieldReason(ReasonTooLong, f), nil, "field %s has length %d, over %d", f, utf8.RuneCountInString(s), r.MaxLen)
		}
	} else if r.MaxLen > 0 && (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() > r.MaxLen {
		return reject(fieldReason(ReasonTooLong, f), nil, "field %s has length %d, over %d", f, v.Len(), r.MaxLen)
	}
	return nil
}

func reflectNumber(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.String()), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// Normalise applies the normalisations to *v.
func (s *Schema[T]) Normalise(v *T) *Error {
	rv := reflect.ValueOf(v).Elem()
	if s.trim != nil {
		s.trim.apply(rv)
	}
	mapStr := func(fs []typedField, fn func(string) string) {
		for _, f := range fs {
			if fv, ok := field(rv, f.idx); ok {
				fv.SetString(fn(fv.String()))
			}
		}
	}
	mapStr(s.norm.lower, strings.ToLower)
	mapStr(s.norm.upper, strings.ToUpper)
	mapStr(s.norm.hosts, normHost)
	for _, f := range s.norm.emails {
		fv, ok := field(rv, f.idx)
		if !ok || fv.String() == "" {
			continue
		}
		e, good := normEmail(fv.String())
		if !good {
			return reject(fieldReason(ReasonBadEmail, f.name), nil, "field %s = %q is not an e-mail address", f.name, clip(fv.String()))
		}
		fv.SetString(e)
	}
	for _, f := range s.norm.times {
		fv, ok := field(rv, f.idx)
		if !ok || fv.String() == "" {
			continue
		}
		t, err := ParseTime(fv.String(), f.format)
		if err != nil {
			return reject(fieldReason(ReasonBadTimestamp, f.name), err, "field %s: %v", f.name, err)
		}
		fv.SetString(t.Format(time.RFC3339Nano))
	}
	for i := range s.norm.money {
		if err := s.norm.money[i].apply(rv); err != nil {
			return err
		}
	}
	return nil
}

func (m *typedMoney) apply(rv reflect.Value) *Error {
	av, ok := field(rv, m.amount.idx)
	if !ok {
		return nil
	}
	var text string
	if av.Kind() == reflect.String {
		if text = strings.TrimSpace(av.String()); text == "" {
			return nil
		}
	} else {
		text = strconv.FormatFloat(av.Float(), 'f', -1, 64)
	}
	u := m.code
	if m.cur.idx != nil {
		cv, _ := field(rv, m.cur.idx)
		code, unit, err := currencyCode(m.cur.name, cv.String())
		if err != nil {
			return err
		}
		u = unit
		cv.SetString(code)
	}
	minor, err := minorUnitsOf(m.amount.name, text, u)
	if err != nil {
		return err
	}
	if ov, ok := field(rv, m.out.idx); ok {
		ov.SetInt(minor)
	}
	return nil
}

// trimPlan lists, per struct type, the string fields to trim and the nested values to visit,
// so trimming a record walks only what can hold strings.
type trimPlan struct {
	strings []int
	nested  []nestedPlan
}

type nestedPlan struct {
	index int
	plan  *trimPlan // for a struct, pointer to struct, or slice of either
}

var stringsType = reflect.TypeFor[[]string]()

func newTrimPlan(t reflect.Type) *trimPlan {
	p := &trimPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		ft := f.Type
		if ft == reflect.TypeFor[jsonx.Number]() {
			continue
		}
		switch base := elemType(ft); {
		case ft.Kind() == reflect.String:
			p.strings = append(p.strings, i)
		case base.Kind() == reflect.Struct && base != reflect.TypeFor[time.Time]():
			p.nested = append(p.nested, nestedPlan{i, newTrimPlan(base)})
		case ft == stringsType:
			p.nested = append(p.nested, nestedPlan{i, nil})
		}
	}
	return p
}

func elemType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}

func (p *trimPlan) apply(v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			p.apply(v.Index(i))
		}
		return
	case reflect.String:
		if s := v.String(); len(s) > 0 && (isSpace(s[0]) || isSpace(s[len(s)-1])) {
			v.SetString(strings.TrimSpace(s))
		}
		return
	}
	for _, i := range p.strings {
		f := v.Field(i)
		if s := f.String(); len(s) > 0 && (isSpace(s[0]) || isSpace(s[len(s)-1])) {
			f.SetString(strings.TrimSpace(s))
		}
	}
	for _, n := range p.nested {
		if n.plan == nil { // []string
			(&trimPlan{}).apply(v.Field(n.index))
			continue
		}
		n.plan.apply(v.Field(n.index))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80
}

func normHost(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }

// normEmail trims and lower-cases an address and checks it has one @ with text around it.
func normEmail(s string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(e, '@')
	ok := at > 0 && at < len(e)-1 && strings.Count(e, "@") == 1 && !strings.ContainsAny(e, " \t")
	return e, ok
}
