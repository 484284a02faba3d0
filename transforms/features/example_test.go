package features_test

import (
	"fmt"

	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
)

// A log line becomes a hit (clean), and the hit's path, agent and referrer become meaning.
func Example() {
	format := clean.MustCompileLogFormat("combined")
	var h clean.Hit
	line := `192.0.2.1 - - [01/Mar/2024:12:00:00 +0000] "GET /items/books/42?ref=home HTTP/1.1" 200 1234 "https://www.example.com/" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"`
	if err := format.Parse(line, &h); err != nil {
		fmt.Println(err)
		return
	}
	tpl := features.MustCompileTemplates("/items/new", "/items/{category}/{item}")
	i, params := tpl.Match(h.Path, nil)
	ref, _ := features.QueryValue(h.Query(), "ref")
	ua := features.ParseUserAgent(h.UserAgent)
	fmt.Println(tpl.Template(i), params, ref)
	fmt.Println(ua.Browser, ua.Version, ua.OS, ua.Device, ua.Bot)
	fmt.Println(features.ReferrerHost(h.Referer))
	// Output:
	// /items/{category}/{item} [{category books} {item 42}] home
	// Safari 17.2 iOS mobile false
	// www.example.com
}
