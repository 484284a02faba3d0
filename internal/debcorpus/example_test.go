package debcorpus_test

import (
	"os"
	"strings"

	"github.com/beamline/beamline/internal/debcorpus"
)

func ExampleBuilder() {
	packages := `Package: hello
Description: example package based on GNU hello
Description-md5: b7df6fe7ffb325083a3a60819a7df548
Section: devel
`
	translations := `Package: hello
Description-md5: b7df6fe7ffb325083a3a60819a7df548
Description-en: example package based on GNU hello
 The GNU hello program produces a familiar, friendly greeting.
 .
 Seriously though: this is an example of how to do a Debian package.
`
	b := debcorpus.NewBuilder()
	if err := b.AddPackages(strings.NewReader(packages)); err != nil {
		panic(err)
	}
	if err := b.AddTranslations(strings.NewReader(translations)); err != nil {
		panic(err)
	}
	if err := debcorpus.WriteNDJSON(os.Stdout, b.Documents()); err != nil {
		panic(err)
	}
	// Output:
	// {"id":"hello","text":"example package based on GNU hello\nThe GNU hello program produces a familiar, friendly greeting.\nSeriously though: this is an example of how to do a Debian package.","labels":["devel"]}
}
