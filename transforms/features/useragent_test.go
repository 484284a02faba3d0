package features_test

import (
	"testing"

	"github.com/beamline/beamline/transforms/features"
)

type uaCase struct {
	ua   string
	want features.UserAgent
}

func TestParseUserAgent(t *testing.T) {
	for _, c := range uaCases {
		if got := features.ParseUserAgent(c.ua); got != c.want {
			t.Errorf("ParseUserAgent(%q) = %+v, want %+v", c.ua, got, c.want)
		}
	}
}

// The cache answers as ParseUserAgent does, whether it holds the agent or not: three passes
// over the cases through a cache of 5, which starts over several times, and one of 1000.
func TestUserAgentCache(t *testing.T) {
	for _, c := range []*features.UserAgentCache{features.NewUserAgentCache(5), features.NewUserAgentCache(1000), nil} {
		for pass := range 3 {
			for _, tc := range uaCases {
				// A fresh copy each time: the cache must key by value, not by the caller's buffer.
				ua := string(append([]byte(nil), tc.ua...))
				if got := c.Parse(ua); got != tc.want {
					t.Errorf("pass %d: Parse(%q) = %+v, want %+v", pass, tc.ua, got, tc.want)
				}
			}
		}
	}
	c := features.NewUserAgentCache(0)
	ua := uaCases[0].ua
	c.Parse(ua)
	if a := testing.AllocsPerRun(1000, func() { c.Parse(ua) }); a != 0 {
		t.Errorf("Parse of a cached agent allocates %.1f times, want 0", a)
	}
}

var uaCases = []uaCase{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36",
		features.UserAgent{Browser: "Chrome", Version: "120.0.6099.109", OS: "Windows", Device: "desktop"}},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
		features.UserAgent{Browser: "Edge", Version: "120.0.2210.91", OS: "Windows", Device: "desktop"}},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
		features.UserAgent{Browser: "Safari", Version: "17.2", OS: "macOS", Device: "desktop"}},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
		features.UserAgent{Browser: "Safari", Version: "17.2", OS: "iOS", Device: "mobile"}},
	{"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
		features.UserAgent{Browser: "Chrome", Version: "120.0.6099.119", OS: "iOS", Device: "tablet"}},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
		features.UserAgent{Browser: "Chrome", Version: "120.0.6099.144", OS: "Android", Device: "mobile"}},
	{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
		features.UserAgent{Browser: "Samsung Internet", Version: "23.0", OS: "Android", Device: "tablet"}},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
		features.UserAgent{Browser: "Firefox", Version: "121.0", OS: "Linux", Device: "desktop"}},
	{"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; .NET CLR 1.1.4322)",
		features.UserAgent{Browser: "Internet Explorer", Version: "7.0", OS: "Windows", Device: "desktop"}},
	{"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko",
		features.UserAgent{Browser: "Internet Explorer", Version: "11.0", OS: "Windows", Device: "desktop"}},
	{"Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.229 Version/11.62",
		features.UserAgent{Browser: "Opera", Version: "11.62", OS: "Windows", Device: "desktop"}},
	{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		features.UserAgent{Browser: "Googlebot", Device: "bot", Bot: true}},
	{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		features.UserAgent{Browser: "Googlebot", OS: "Android", Device: "bot", Bot: true}},
	{"Mozilla/5.0 (compatible; SomeNewCrawler/0.1)", features.UserAgent{Browser: "other bot", Device: "bot", Bot: true}},
	{"curl/8.5.0", features.UserAgent{Browser: "curl", Device: "bot", Bot: true}},
	{"TrackBack/1.02", features.UserAgent{Browser: "TrackBack", Device: "bot", Bot: true}},
	{"-", features.UserAgent{Device: "unknown"}},
	{"", features.UserAgent{Device: "unknown"}},
	{"SomethingElse/1.0", features.UserAgent{Device: "other"}},
}

func TestParseUserAgentDoesNotAllocate(t *testing.T) {
	ua := "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
	if a := testing.AllocsPerRun(1000, func() { features.ParseUserAgent(ua) }); a != 0 {
		t.Errorf("ParseUserAgent allocates %.1f times, want 0", a)
	}
}
