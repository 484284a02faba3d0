package clean

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/jsonx"
)

// Rule is a declarative check of one field. Zero values mean "no constraint".
type Rule struct {
	// Field is a dotted path (user.email).
	Field    string `json:"field" yaml:"field"`
	Required bool   `json:"required,omitempty" yaml:"required,omitempty"`
	// Type is string, number, integer, boolean, object or array. number and integer accept a
	// string holding a number too, since CSV and many JSON producers write amounts as strings.
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
	// Min and Max bound a number's value (inclusive).
	Min *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max *float64 `json:"max,omitempty" yaml:"max,omitempty"`
	// Regex must match the whole string value.
	Regex string `json:"regex,omitempty" yaml:"regex,omitempty"`
	// Enum lists the allowed string values.
	Enum []string `json:"enum,omitempty" yaml:"enum,omitempty"`
	// MaxLen bounds a string's length in characters, or an array's in elements.
	MaxLen int `json:"max_len,omitempty" yaml:"max_len,omitempty"`
	// Check names a predicate registered with RegisterCheck; it sees the whole document.
	Check string `json:"check,omitempty" yaml:"check,omitempty"`
}

// Types lists the values Rule.Type accepts.
var Types = []string{"string", "number", "integer", "boolean", "object", "array"}

// CheckFunc is a custom predicate over a parsed document. Return an *Error to choose the
// reason code; any other error is reported as check:<name>.
type CheckFunc func(data map[string]any) error

var checks sync.Map // name → CheckFunc

// RegisterCheck makes fn available to rules as Check: name. Call it from init() so workers,
// which run the same binary, have it too.
func RegisterCheck(name string, fn CheckFunc) {
	if name == "" || fn == nil {
		panic("clean.RegisterCheck: name and fn are required")
	}
	checks.Store(name, fn)
}

// Validator is the pure core of Validate.
type Validator struct{ rules []compiledRule }

type compiledRule struct {
	Rule
	path  path
	re    *regexp.Regexp
	enum  []string // sorted
	check CheckFunc
}

// NewValidator compiles rules; errors name the rule's field and what is wrong with it.
func NewValidator(rules []Rule) (*Validator, error) {
	var errs []error
	v := &Validator{}
	for i, r := range rules {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("rule %d (field %q): %s", i+1, r.Field, fmt.Sprintf(format, args...)))
		}
		c := compiledRule{Rule: r}
		if r.Field == "" && r.Check == "" {
			bad("field is required (or check, for a whole-document predicate)")
		}
		if r.Field != "" {
			c.path = splitPath(r.Field)
		}
		if r.Type != "" && !slices.Contains(Types, r.Type) {
			bad("type %q is not one of %s", r.Type, strings.Join(Types, ", "))
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			bad("min %v is above max %v", *r.Min, *r.Max)
		}
		if r.Regex != "" {
			re, err := regexp.Compile(`^(?:` + r.Regex + `)$`)
			if err != nil {
				bad("regex: %v", err)
			}
			c.re = re
		}
		if len(r.Enum) > 0 {
			c.enum = slices.Clone(r.Enum)
			sort.Strings(c.enum)
		}
		if r.MaxLen < 0 {
			bad("max_len %d must be 0 (no limit) or more", r.MaxLen)
		}
		if r.Check != "" {
			fn, ok := checks.Load(r.Check)
			if !ok {
				bad("check %q is not registered (clean.RegisterCheck)", r.Check)
			} else {
				c.check = fn.(CheckFunc)
			}
		}
		v.rules = append(v.rules, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	return v, nil
}

// Validate applies the rules in order and returns the first failure.
func (v *Validator) Validate(data map[string]any) *Error {
	for i := range v.rules {
		if err := v.rules[i].apply(data); err != nil {
			return err
		}
	}
	return nil
}

func (r *compiledRule) apply(data map[string]any) *Error {
	if r.path != nil {
		val, ok := r.path.get(data)
		if !ok || val == nil {
			if r.Required {
				return reject(fieldReason(ReasonMissingField, r.Field), nil, "field %s is required", r.Field)
			}
		} else if err := r.value(val); err != nil {
			return err
		}
	}
	if r.check != nil {
		if err := r.check(data); err != nil {
			return AsError(err, r.Check)
		}
	}
	return nil
}

func (r *compiledRule) value(val any) *Error {
	f := r.Field
	if n, ok := val.(jsonx.Number); ok && (r.Type == "number" || r.Type == "integer" || r.Min != nil || r.Max != nil) {
		// A number a float64 cannot hold (1e400) is a number, just not one this rule can
		// compare: say so, rather than "is a number, want number".
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return reject(fieldReason(ReasonOutOfRange, f), nil, "field %s = %.40s is out of range for a 64-bit float (about ±1.8e308)", f, n)
		}
	}
	if r.Type != "" && !hasType(val, r.Type) {
		return reject(fieldReason(ReasonWrongType, f), nil, "field %s is %s, want %s", f, typeName(val), r.Type)
	}
	if r.Min != nil || r.Max != nil {
		x, ok := number(val)
		if !ok {
			return reject(fieldReason(ReasonWrongType, f), nil, "field %s is %s, want a number to compare with its bounds", f, typeName(val))
		}
		if (r.Min != nil && x < *r.Min) || (r.Max != nil && x > *r.Max) || math.IsNaN(x) {
			return reject(fieldReason(ReasonOutOfRange, f), nil, "field %s = %v is outside [%s, %s]", f, val, bound(r.Min, "-inf"), bound(r.Max, "+inf"))
		}
	}
	s, isString := val.(string)
	if r.re != nil {
		if !isString {
			return reject(fieldReason(ReasonWrongType, f), nil, "field %s is %s, want a string to match", f, typeName(val))
		}
		if !r.re.MatchString(s) {
			return reject(fieldReason(ReasonBadFormat, f), nil, "field %s = %q does not match %s", f, clip(s), r.Regex)
		}
	}
	if r.enum != nil {
		if _, found := slices.BinarySearch(r.enum, s); !isString || !found {
			return reject(fieldReason(ReasonNotAllowed, f), nil, "field %s = %v is not one of %s", f, val, strings.Join(r.Enum, ", "))
		}
	}
	if r.MaxLen > 0 {
		n := -1
		switch x := val.(type) {
		case string:
			n = utf8.RuneCountInString(x)
		case []any:
			n = len(x)
		}
		if n > r.MaxLen {
			return reject(fieldReason(ReasonTooLong, f), nil, "field %s has length %d, over %d", f, n, r.MaxLen)
		}
	}
	return nil
}

func bound(p *float64, none string) string {
	if p == nil {
		return none
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func hasType(v any, t string) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		x, ok := number(v)
		return ok && x == math.Trunc(x) && !math.IsInf(x, 0)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

// number reads a JSON number, a Go number or a string holding a number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case jsonx.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case jsonx.Number, float64, int64, int:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
