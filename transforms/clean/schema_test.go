package clean_test

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/google/go-cmp/cmp"
)

type event struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Host  string   `json:"host"`
	Tags  []string `json:"tags"`
	N     *int     `json:"n"`
	At    string   `json:"at"`
	Price struct {
		Amount string `json:"amount"`
		Cur    string `json:"cur"`
		Minor  int64  `json:"minor"`
	} `json:"price"`
}

func init() {
	clean.RegisterSchema[event]()
	register.Function1x1(eventMinor)
}

func eventMinor(e event) int64 { return e.Price.Minor }

func eventSchema(t *testing.T) *clean.Schema[event] {
	zero := 0.0
	s, err := clean.NewSchema[event]([]clean.Rule{
		{Field: "id", Required: true, Regex: `e\d+`},
		{Field: "n", Required: true, Min: &zero},
		{Field: "tags", MaxLen: 2},
		{Field: "price.cur", Enum: []string{"EUR", "eur", "USD", "usd", "XYZ"}},
	}, clean.NormaliseSpec{
		Trim: true, Emails: []string{"email"}, Hosts: []string{"host"},
		Timestamps: []clean.TimeField{{Field: "at", Format: "auto"}},
		Money:      []clean.MoneyField{{Amount: "price.amount", Currency: "price.cur", Out: "price.minor"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaParse(t *testing.T) {
	s := eventSchema(t)
	got, err := s.Parse([]byte(`{"id":"e1","email":" A@B.C ","host":"X.Example.","tags":[" t "],"n":0,"at":"1795161600","price":{"amount":"1.5","cur":"eur"}}`))
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	want := event{ID: "e1", Email: "a@b.c", Host: "x.example", Tags: []string{"t"}, N: &zero, At: "2026-11-20T08:00:00Z"}
	want.Price.Amount, want.Price.Cur, want.Price.Minor = "1.5", "EUR", 150
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Schema.Parse (-want +got):\n%s", diff)
	}
	for in, reason := range map[string]string{
		`{"n":1}`:                                                  "missing_field:id",
		`{"id":"e1"}`:                                              "missing_field:n",
		`{"id":"x1","n":1}`:                                        "bad_format:id",
		`{"id":"e1","n":-1}`:                                       "out_of_range:n",
		`{"id":"e1","n":"one"}`:                                    "wrong_type:n",
		`{"id":"e1","n":1,"tags":[1]}`:                             "wrong_type:tags",
		`{"id":"e1","n":1,"tags":["a","b","c"]}`:                   "too_long:tags",
		`{"id":"e1","n":1,"email":"nope"}`:                         "bad_email:email",
		`{"id":"e1","n":1,"at":"soon"}`:                            "bad_timestamp:at",
		`{"id":"e1","n":1,"price":{"amount":"1","cur":"XYZ"}}`:     "unknown_currency:price.cur",
		`{"id":"e1","n":1,"price":{"amount":"1.001","cur":"EUR"}}`: "bad_amount:price.amount",
		`{"id":"e1","n":1,"price":{"amount":"1","cur":"GBP"}}`:     "not_allowed:price.cur",
		`[1]`:                  "json_not_object",
		`{"id":"e1",`:          "json_truncated",
		`{"id":"e1","n":1} {}`: "json_trailing_data",
		"{\"id\":\"e\x00\"}":   "nul_byte",
	} {
		if _, err := s.Parse([]byte(in)); reasonOf(err) != reason {
			t.Errorf("Schema.Parse(%s) = %v, want %s", in, err, reason)
		}
	}
}

func TestNewSchemaErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		rules []clean.Rule
		norm  clean.NormaliseSpec
	}{
		{[]clean.Rule{{Field: "nope", Required: true}}, clean.NormaliseSpec{}},
		{nil, clean.NormaliseSpec{Lower: []string{"n"}}},
		{nil, clean.NormaliseSpec{Money: []clean.MoneyField{{Amount: "price.amount", Currency: "price.cur"}}}},
		{[]clean.Rule{{Check: "anything"}}, clean.NormaliseSpec{}},
	} {
		if _, err := clean.NewSchema[event](tc.rules, tc.norm); err == nil {
			t.Errorf("NewSchema(%+v, %+v) = nil error", tc.rules, tc.norm)
		}
	}
}

func TestDecodeOnPrism(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, records("src", `{"id":"e1","n":1,"price":{"amount":"2.50","cur":"usd"}}`, `{"id":"e2"}`, `oops`))
	ok, dead := clean.Decode[event](s, in, []clean.Rule{{Field: "n", Required: true}},
		clean.NormaliseSpec{Money: []clean.MoneyField{{Amount: "price.amount", Currency: "price.cur", Out: "price.minor"}}})
	passert.Equals(s, beam.ParDo(s, eventMinor, ok), int64(250))
	passert.Equals(s, beam.ParDo(s, reasonFn, dead), "missing_field:n", "json_syntax")
	ptest.RunAndValidate(t, p)
}
