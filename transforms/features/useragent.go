package features

import "strings"

// Device classes.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceBot     = "bot"
	DeviceOther   = "other"   // a TV, a console, a library with no OS, or a UA we cannot place
	DeviceUnknown = "unknown" // no user agent at all
)

// UserAgent is what a User-Agent header says about the client. Strings are constants or
// substrings of the header: classifying allocates nothing.
type UserAgent struct {
	// Browser is a family (Chrome, Firefox, Safari, Edge, Opera, Samsung Internet, Yandex,
	// Internet Explorer), the bot's or tool's name for bots, or "" when unknown.
	Browser string
	// Version is the browser's version as sent ("120.0.6099.109"), or "".
	Version string
	// OS is a family: Windows, macOS, iOS, Android, Linux, ChromeOS, or "".
	OS     string
	Device string
	Bot    bool
}

// UserAgentCache remembers ParseUserAgent's answers for the user agents seen last: real
// traffic repeats a few thousand agents over millions of requests, and classifying one is
// hundreds of nanoseconds of substring searches, a map lookup tens. It holds at most max
// agents and starts over when full. It is not safe for concurrent use: hold one per DoFn
// instance (a Beam worker runs one bundle at a time through each). A nil cache parses.
type UserAgentCache struct {
	max int
	m   map[string]UserAgent
}

// NewUserAgentCache returns a cache of at most max agents (max < 1 means 4096).
func NewUserAgentCache(max int) *UserAgentCache {
	if max < 1 {
		max = 4096
	}
	return &UserAgentCache{max: max, m: make(map[string]UserAgent, min(max, 1024))}
}

// Parse is ParseUserAgent(ua), from the cache when ua was seen.
func (c *UserAgentCache) Parse(ua string) UserAgent {
	if c == nil {
		return ParseUserAgent(ua)
	}
	if v, ok := c.m[ua]; ok {
		return v
	}
	// The key and the answer (Version is a substring of the agent) must not hold on to the
	// caller's line buffer: parse a copy.
	k := strings.Clone(ua)
	v := ParseUserAgent(k)
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
	return v
}

// ParseUserAgent classifies a User-Agent header with ordered substring rules, the way
// GoAccess and most log analysers do. It is not a full user-agent database: it answers the
// questions traffic analysis asks — human or bot, which browser family, which OS family, which
// kind of device — for the agents that make up nearly all real traffic.
//
// Bots come first: a header naming a known crawler or an HTTP library, or containing "bot",
// "crawl", "spider" or "slurp", is a bot whatever else it claims (Googlebot says "Mozilla
// (compatible; …)"). Browser rules go from the most specific token to the least, because
// Edge and Opera also say Chrome, and Chrome also says Safari.
func ParseUserAgent(ua string) UserAgent {
	ua = strings.TrimSpace(ua)
	if ua == "" || ua == "-" {
		return UserAgent{Device: DeviceUnknown}
	}
	if name, ok := botName(ua); ok {
		return UserAgent{Browser: name, OS: osFamily(ua), Device: DeviceBot, Bot: true}
	}
	u := UserAgent{OS: osFamily(ua)}
	for _, b := range browserRules {
		if i := strings.Index(ua, b.token); i >= 0 {
			if b.unless != "" && strings.Contains(ua, b.unless) {
				continue
			}
			u.Browser = b.name
			u.Version = versionAt(ua, i+len(b.token))
			if b.versionToken != "" {
				if j := strings.Index(ua, b.versionToken); j >= 0 {
					u.Version = versionAt(ua, j+len(b.versionToken))
				}
			}
			break
		}
	}
	u.Device = deviceClass(ua, u.OS)
	return u
}

type browserRule struct {
	token, name string
	// unless skips the rule when the header also has this token.
	unless string
	// versionToken, when present, precedes the version instead of token (Safari's Version/).
	versionToken string
}

var browserRules = []browserRule{
	{token: "Edg/", name: "Edge"},
	{token: "EdgA/", name: "Edge"},
	{token: "EdgiOS/", name: "Edge"},
	{token: "Edge/", name: "Edge"},
	{token: "OPR/", name: "Opera"},
	{token: "Opera", name: "Opera", versionToken: "Version/"},
	{token: "SamsungBrowser/", name: "Samsung Internet"},
	{token: "YaBrowser/", name: "Yandex"},
	{token: "Vivaldi/", name: "Vivaldi"},
	{token: "Firefox/", name: "Firefox"},
	{token: "FxiOS/", name: "Firefox"},
	{token: "CriOS/", name: "Chrome"},
	{token: "Chromium/", name: "Chromium"},
	{token: "Chrome/", name: "Chrome"},
	{token: "Safari/", name: "Safari", versionToken: "Version/"},
	{token: "MSIE ", name: "Internet Explorer"},
	{token: "Trident/", name: "Internet Explorer", versionToken: "rv:"},
}

// versionAt reads a version (digits and dots) starting at i.
func versionAt(ua string, i int) string {
	j := i
	for j < len(ua) && (isDigit(ua[j]) || ua[j] == '.') {
		j++
	}
	return strings.TrimSuffix(ua[i:j], ".")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// knownBots maps a case-sensitive token to the bot's name, most common first.
var knownBots = []struct{ token, name string }{
	{"Googlebot", "Googlebot"},
	{"bingbot", "Bingbot"},
	{"YandexBot", "YandexBot"},
	{"Baiduspider", "Baiduspider"},
	{"DuckDuckBot", "DuckDuckBot"},
	{"Applebot", "Applebot"},
	{"AhrefsBot", "AhrefsBot"},
	{"SemrushBot", "SemrushBot"},
	{"PetalBot", "PetalBot"},
	{"GPTBot", "GPTBot"},
	{"facebookexternalhit", "Facebook"},
	{"Twitterbot", "Twitterbot"},
	{"Slurp", "Yahoo! Slurp"},
	{"ia_archiver", "Alexa"},
	{"Mediapartners-Google", "Google AdSense"},
	{"AdsBot-Google", "Google AdsBot"},
	{"Feedfetcher-Google", "Google Feedfetcher"},
	{"curl/", "curl"},
	{"Wget/", "Wget"},
	{"python-requests/", "python-requests"},
	{"Python-urllib/", "Python-urllib"},
	{"Go-http-client/", "Go-http-client"},
	{"okhttp/", "okhttp"},
	{"Java/", "Java"},
	{"Apache-HttpClient/", "Apache-HttpClient"},
	{"libwww-perl/", "libwww-perl"},
	{"HeadlessChrome/", "HeadlessChrome"},
	{"PhantomJS/", "PhantomJS"},
	{"Scrapy/", "Scrapy"},
	{"Nutch", "Nutch"},
	{"TrackBack/", "TrackBack"},
}

// mozillaBots are automated agents that look like browsers and say no bot word.
var mozillaBots = []struct{ token, name string }{
	{"HeadlessChrome/", "HeadlessChrome"},
	{"PhantomJS/", "PhantomJS"},
	{"Mediapartners-Google", "Google AdSense"},
}

// botName names the bot ua is, if it is one. Most agents are browsers that start with
// "Mozilla/" and carry no bot word: they are settled after one pass over the header, and the
// list of known bots is only searched for the rest.
func botName(ua string) (string, bool) {
	word := hasBotWord(ua)
	if !word && (strings.HasPrefix(ua, "Mozilla/") || strings.HasPrefix(ua, "Opera/")) {
		for _, b := range mozillaBots {
			if strings.Contains(ua, b.token) {
				return b.name, true
			}
		}
		return "", false
	}
	for _, b := range knownBots {
		if strings.Contains(ua, b.token) {
			return b.name, true
		}
	}
	if word {
		return "other bot", true
	}
	return "", false
}

// hasBotWord reports whether ua contains, in any case, a word that marks an automated agent:
// bot, crawl, spider, slurp, scanner, monitor, checker, fetcher, archiver. One pass, keyed
// on the first letter.
func hasBotWord(ua string) bool {
	for i := 0; i < len(ua); i++ {
		s := ua[i:]
		switch ua[i] | 0x20 {
		case 'b':
			if hasPrefixFold(s, "bot") {
				return true
			}
		case 'c':
			if hasPrefixFold(s, "crawl") || hasPrefixFold(s, "checker") {
				return true
			}
		case 's':
			if hasPrefixFold(s, "spider") || hasPrefixFold(s, "slurp") || hasPrefixFold(s, "scanner") {
				return true
			}
		case 'm':
			if hasPrefixFold(s, "monitor") {
				return true
			}
		case 'f':
			if hasPrefixFold(s, "fetcher") {
				return true
			}
		case 'a':
			if hasPrefixFold(s, "archiver") {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with lower, an ASCII lower-case word, in any case.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if s[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

func osFamily(ua string) string {
	switch {
	case strings.Contains(ua, "Windows Phone"):
		return "Windows Phone"
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		return "iOS"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		return "macOS"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"), strings.Contains(ua, "BSD"):
		return "Linux"
	}
	return ""
}

func deviceClass(ua, os string) string {
	switch {
	case strings.Contains(ua, "iPad"), strings.Contains(ua, "Tablet"),
		os == "Android" && !strings.Contains(ua, "Mobile"):
		return DeviceTablet
	case os == "iOS", os == "Android", os == "Windows Phone", strings.Contains(ua, "Mobi"):
		return DeviceMobile
	case strings.Contains(ua, "SmartTV"), strings.Contains(ua, "PlayStation"), strings.Contains(ua, "Xbox"):
		return DeviceOther
	case os == "Windows", os == "macOS", os == "Linux", os == "ChromeOS":
		return DeviceDesktop
	}
	return DeviceOther
}
