package main

import (
	"fmt"

	"github.com/beamline/beamline/transforms/clean"
)

func init() {
	clean.RegisterCheck("order_total", orderTotal)
}

// orderTotal checks that an order's total is the sum of its lines' qty × price. Amounts are
// compared exactly, in thousandths, before currency normalisation.
func orderTotal(data map[string]any) error {
	total, err := thousandths(data["total"])
	if err != nil {
		return nil // the type rule on total reports it
	}
	items, _ := data["items"].([]any)
	var sum int64
	for i, it := range items {
		line, _ := it.(map[string]any)
		qty, err1 := thousandths(line["qty"])
		price, err2 := thousandths(line["price"])
		if err1 != nil || err2 != nil {
			return &clean.Error{Reason: "bad_line_item", Msg: fmt.Sprintf("items[%d] needs a numeric qty and price", i)}
		}
		sum += qty / 1000 * price
	}
	if sum != total {
		return &clean.Error{Reason: "total_mismatch", Msg: fmt.Sprintf("total %v is not the sum of the lines, %.3f", data["total"], float64(sum)/1000)}
	}
	return nil
}

func thousandths(v any) (int64, error) {
	s := fmt.Sprint(v)
	return clean.MinorUnits(s, 3)
}
