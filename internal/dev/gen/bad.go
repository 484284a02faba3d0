package gen

import (
	"bytes"
	"strings"
)

// BadCase is one line of the bad-records file and the reason it must be rejected with.
// Reason "" means the line is valid despite its looks (CRLF ending) and must come out clean.
type BadCase struct {
	Kind   string
	Line   []byte
	Reason string
}

const goodOrder = `{"order_id":"O-900001","created_at":"2026-11-20T08:00:00Z","customer":{"id":"C-1","email":"ana@example.com"},"country":"DE","currency":"EUR","total":"10.00","payment":"card","items":[{"sku":"SKU-0001","qty":2,"price":5.00}]}`

// order returns goodOrder with old replaced by new (exactly once) and a fresh order id.
func order(id, old, new string) []byte {
	s := strings.Replace(goodOrder, `"O-900001"`, `"`+id+`"`, 1)
	if old != "" {
		if !strings.Contains(s, old) {
			panic("gen: " + old + " not in the good order")
		}
		s = strings.Replace(s, old, new, 1)
	}
	return []byte(s)
}

// BadOrders is the content of testdata/bad/orders_bad.jsonl: one line per case, in order,
// for a source with the orders rules (see testdata/sources.yaml).
func BadOrders() []BadCase {
	big := order("O-900013", `"payment":"card"`, `"payment":"card","note":"`+strings.Repeat("x", 1<<20)+`"`)
	return []BadCase{
		{"valid order, kept", order("O-900001", "", ""), ""},
		{"malformed JSON", []byte(`{"order_id" "O-900002", "total": "1.00"}`), "json_syntax"},
		{"truncated line", order("O-900003", "", "")[:60], "json_truncated"},
		{"invalid UTF-8", order("O-900004", `"id":"C-1"`, "\"id\":\"C-\xff\xfe\""), "invalid_utf8"},
		{"wrong type", order("O-900005", `"total":"10.00"`, `"total":"ten"`), "wrong_type:total"},
		{"missing required field", order("O-900006", `"order_id":"O-900006",`, ""), "missing_field:order_id"},
		{"negative amount", order("O-900007", `"total":"10.00"`, `"total":"-10.00"`), "out_of_range:total"},
		{"unknown currency", order("O-900008", `"currency":"EUR"`, `"currency":"XYZ"`), "unknown_currency:currency"},
		{"ancient timestamp", order("O-900009", `2026-11-20T08:00:00Z`, `1999-12-31T23:59:59Z`), "time_too_old:created_at"},
		{"future timestamp", order("O-900010", `2026-11-20T08:00:00Z`, `2099-01-01T00:00:00Z`), "time_in_future:created_at"},
		{"duplicate id", order("O-900001", `"id":"C-1"`, `"id":"C-2"`), "duplicate"},
		{"byte-order mark inside the file", append([]byte{0xEF, 0xBB, 0xBF}, order("O-900012", "", "")...), "unexpected_bom"},
		{"1 MB record", big, "too_large"},
		{"empty line", []byte{}, "empty_record"},
		{"NUL bytes", order("O-900015", `"payment":"card"`, "\"payment\":\"ca\x00rd\""), "nul_byte"},
		{"control character (bare CR)", order("O-900016", `"payment":"card"`, "\"payment\":\"card\r\""), "control_char"},
		{"JSON array, not an object", []byte(`[` + goodOrder + `]`), "json_not_object"},
		{"two objects on one line", append(order("O-900018", "", ""), order("O-900019", "", "")...), "json_trailing_data"},
		{"unreadable timestamp", order("O-900020", `"2026-11-20T08:00:00Z"`, `"yesterday"`), "bad_timestamp:created_at"},
		{"country not allowed", order("O-900021", `"country":"DE"`, `"country":"XX"`), "not_allowed:country"},
		{"malformed id", order("O-900022", `"O-900022"`, `"900022"`), "bad_format:order_id"},
		{"field too long", order("O-900023", `"payment":"card"`, `"payment":"card","note":"`+strings.Repeat("n", 300)+`"`), "too_long:note"},
		{"bad e-mail", order("O-900024", `ana@example.com`, `ana.example.com`), "bad_email:customer.email"},
		{"more decimals than the currency has", order("O-900025", `"total":"10.00","payment":"card","items":[{"sku":"SKU-0001","qty":2,"price":5.00}]`, `"total":"10.005","payment":"card","items":[{"sku":"SKU-0001","qty":1,"price":10.005}]`), "bad_amount:total"},
		{"total is not the sum of the lines", order("O-900026", `"total":"10.00"`, `"total":"12.00"`), "total_mismatch"},
		{"white space only", []byte("   \t  "), "empty_record"},
		{"CRLF line ending, otherwise valid", append(order("O-900028", "", ""), '\r'), ""},
		{"null required field", order("O-900029", `"order_id":"O-900029"`, `"order_id":null`), "missing_field:order_id"},
		{"items not an array", order("O-900030", `"items":[{"sku":"SKU-0001","qty":2,"price":5.00}]`, `"items":"SKU-0001 x2"`), "wrong_type:items"},
		{"JSON string, not an object", []byte(`"just a string"`), "json_not_object"},
	}
}

// BadOrdersFile joins BadOrders into the file's bytes.
func BadOrdersFile() []byte {
	var b bytes.Buffer
	for _, c := range BadOrders() {
		b.Write(c.Line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BadWebB are CSV lines appended to a web_b file, with their reasons.
func BadWebB() []BadCase {
	return []BadCase{
		{"CSV with an unterminated quote", []byte(`b-900001,2026-11-20 08:00:00,u1,"https://www.example.com/cart,view,10`), "csv_syntax"},
		{"CSV with a missing field", []byte(`b-900002,2026-11-20 08:00:00,u1,https://www.example.com/,view`), "csv_field_count"},
		{"CSV with an unreadable time", []byte(`b-900003,20/11/2026 8am,u1,https://www.example.com/,view,10`), "bad_timestamp:timestamp"},
	}
}
