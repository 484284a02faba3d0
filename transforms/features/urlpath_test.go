package features_test

import (
	"testing"

	"github.com/beamline/beamline/transforms/features"
	"github.com/google/go-cmp/cmp"
)

func TestTemplatesMatch(t *testing.T) {
	tpl := features.MustCompileTemplates(
		"/",
		"/items/new/{draft}",
		"/items/{category}/{item}",
		"/items/{category}",
		"/search",
		"/static/{file...}",
		"/{page}",
	)
	for _, c := range []struct {
		path     string
		template string
		params   []features.Param
	}{
		{"/", "/", nil},
		{"/items/books/42", "/items/{category}/{item}", []features.Param{{"category", "books"}, {"item", "42"}}},
		{"/items/books/42?ref=home", "/items/{category}/{item}", []features.Param{{"category", "books"}, {"item", "42"}}},
		{"/items/books/42/", "/items/{category}/{item}", []features.Param{{"category", "books"}, {"item", "42"}}},
		// Listed first, so the specific template wins over {category}/{item}.
		{"/items/new/7", "/items/new/{draft}", []features.Param{{"draft", "7"}}},
		{"/items/books", "/items/{category}", []features.Param{{"category", "books"}}},
		{"/items/caf%C3%A9/1", "/items/{category}/{item}", []features.Param{{"category", "caf%C3%A9"}, {"item", "1"}}},
		{"/search?q=go", "/search", nil},
		{"/static/css/site.css", "/static/{file...}", []features.Param{{"file", "css/site.css"}}},
		{"/static", "/static/{file...}", []features.Param{{"file", ""}}},
		{"/about", "/{page}", []features.Param{{"page", "about"}}},
		{"/items/books/42/reviews", "", nil},
		{"//admin/pma", "", nil},
	} {
		i, params := tpl.Match(c.path, nil)
		got := ""
		if i >= 0 {
			got = tpl.Template(i)
		}
		if got != c.template || !cmp.Equal(params, c.params) {
			t.Errorf("Match(%q) = %q %v, want %q %v", c.path, got, params, c.template, c.params)
		}
		if j := tpl.Lookup(c.path); j != i {
			t.Errorf("Lookup(%q) = %d, Match gave %d", c.path, j, i)
		}
	}
}

func TestCompileTemplatesRejects(t *testing.T) {
	for _, bad := range [][]string{
		nil,
		{"items/{id}"},
		{"/api/v{version}/users"},
		{"/a/{id}/{id}"},
		{"/files/{rest...}/more"},
		{"/a//b"},
		{"/a/{}"},
		{"/a/{x}", "/a/{y}"},
	} {
		if _, err := features.CompileTemplates(bad...); err == nil {
			t.Errorf("CompileTemplates(%q) = nil error, want one", bad)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	tpl := features.MustCompileTemplates("/items/{category}/{item}", "/static/{file...}")
	params := make([]features.Param, 0, 4)
	allocs := testing.AllocsPerRun(1000, func() {
		_, params = tpl.Match("/items/books/978-0134190440?utm_source=x", params[:0])
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times, want 0", allocs)
	}
}

func TestExtAndStatic(t *testing.T) {
	for _, c := range []struct {
		path   string
		ext    string
		static bool
	}{
		{"/img/logo.PNG", "png", true},
		{"/app.js?v=3", "js", true},
		{"/index.php", "php", false},
		{"/blog/2024/01/", "", false},
		{"/v1.2/users", "", false},
		{"/archive.tar.gz", "gz", true},
		{"/trailing.", "", false},
	} {
		if got := features.Ext(c.path); got != c.ext {
			t.Errorf("Ext(%q) = %q, want %q", c.path, got, c.ext)
		}
		if got := features.IsStatic(c.path); got != c.static {
			t.Errorf("IsStatic(%q) = %v, want %v", c.path, got, c.static)
		}
	}
}

func TestQuery(t *testing.T) {
	q := "q=go+programming&page=2&flag&utm_source=news%20letter&page=3&bad=%zz"
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{"q", "go programming", true},
		{"page", "2", true},
		{"flag", "", true},
		{"utm_source", "news letter", true},
		{"bad", "%zz", true},
		{"missing", "", false},
	} {
		if got, ok := features.QueryValue(q, c.key); got != c.want || ok != c.ok {
			t.Errorf("QueryValue(%q, %q) = %q, %v, want %q, %v", q, c.key, got, ok, c.want, c.ok)
		}
	}
	want := []features.Param{{"q", "go programming"}, {"page", "2"}, {"flag", ""}, {"utm_source", "news letter"}, {"page", "3"}, {"bad", "%zz"}}
	if d := cmp.Diff(want, features.QueryParams(q)); d != "" {
		t.Errorf("QueryParams(%q) mismatch (-want +got):\n%s", q, d)
	}
	if p, qs := features.SplitPath("/a/b?x=1#frag"); p != "/a/b" || qs != "x=1" {
		t.Errorf("SplitPath = %q, %q, want /a/b, x=1", p, qs)
	}
}

func TestReferrerHost(t *testing.T) {
	for _, c := range []struct{ ref, want string }{
		{"https://www.Google.com/search?q=x", "www.google.com"},
		{"http://user:pw@example.com:8080/a", "example.com"},
		{"http://[2001:db8::1]:8080/", "[2001:db8::1]"},
		{"android-app://com.google.android.gm", "com.google.android.gm"},
		{"-", ""},
		{"", ""},
		{"/relative/page", ""},
	} {
		if got := features.ReferrerHost(c.ref); got != c.want {
			t.Errorf("ReferrerHost(%q) = %q, want %q", c.ref, got, c.want)
		}
	}
}
