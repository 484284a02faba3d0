package clean_test

import (
	"fmt"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
)

// The pure cores run without Beam: here one record through parse, validate and normalise.
func Example() {
	p, _ := clean.NewParser(clean.ParseSpec{Format: "json"})
	zero := 0.0
	v, _ := clean.NewValidator([]clean.Rule{
		{Field: "order_id", Required: true, Regex: `O-\d+`},
		{Field: "total", Required: true, Type: "number", Min: &zero},
	})
	n, _ := clean.NewNormaliser(clean.NormaliseSpec{
		Emails: []string{"email"},
		Money:  []clean.MoneyField{{Amount: "total", Currency: "currency"}},
	})
	for _, line := range []string{
		`{"order_id":"O-1","email":" Ana@Example.COM","total":"12.30","currency":"eur"}`,
		`{"order_id":"O-2","total":-1,"currency":"EUR"}`,
		`{"order_id":"O-3","total":"5","currency":"XYZ"}`,
		`{"order_id":"O-4",`,
	} {
		r := record.Record{Source: "orders", Payload: []byte(line)}
		err := p.Parse(&r)
		if err == nil {
			err = v.Validate(r.Data)
		}
		if err == nil {
			err = n.Normalise(r.Data)
		}
		if err != nil {
			fmt.Println("dead:", err.Reason)
			continue
		}
		fmt.Println("ok:", r.Data["email"], r.Data["total"], r.Data["currency"])
	}
	// Output:
	// ok: ana@example.com 1230 EUR
	// dead: out_of_range:total
	// dead: unknown_currency:currency
	// dead: json_truncated
}

func ExampleMinorUnits() {
	for _, c := range []struct {
		amount string
		scale  int
	}{{"12.30", 2}, {"1500", 0}, {"0.125", 3}, {"1.005", 2}} {
		v, err := clean.MinorUnits(c.amount, c.scale)
		fmt.Println(c.amount, v, err)
	}
	// Output:
	// 12.30 1230 <nil>
	// 1500 1500 <nil>
	// 0.125 125 <nil>
	// 1.005 0 more decimal places than the currency's 2
}

func ExampleParseTime() {
	for _, v := range []any{"2026-11-20T09:00:00+01:00", "20/Nov/2026:08:00:00 +0000", "1795161600000", "2026-11-20 08:00:00"} {
		t, _ := clean.ParseTime(v, "auto")
		fmt.Println(t)
	}
	// Output:
	// 2026-11-20 08:00:00 +0000 UTC
	// 2026-11-20 08:00:00 +0000 UTC
	// 2026-11-20 08:00:00 +0000 UTC
	// 2026-11-20 08:00:00 +0000 UTC
}

func ExampleSchema() {
	type Order struct {
		ID         string `json:"id"`
		Total      string `json:"total"`
		Currency   string `json:"currency"`
		TotalMinor int64  `json:"total_minor"`
	}
	s, err := clean.NewSchema[Order](
		[]clean.Rule{{Field: "id", Required: true}},
		clean.NormaliseSpec{Money: []clean.MoneyField{{Amount: "total", Currency: "currency", Out: "total_minor"}}},
	)
	if err != nil {
		panic(err)
	}
	o, _ := s.Parse([]byte(`{"id":"A","total":"1500","currency":"jpy"}`))
	fmt.Printf("%+v\n", o)
	_, e := s.Parse([]byte(`{"total":"1"}`))
	fmt.Println(e.Reason)
	// Output:
	// {ID:A Total:1500 Currency:JPY TotalMinor:1500}
	// missing_field:id
}
