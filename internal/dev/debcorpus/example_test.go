package debcorpus_test

import (
	"os"
	"strings"

	"github.com/beamline/beamline/internal/dev/debcorpus"
)

func ExampleBuilder() {
	packages := `Package: hello
Description: greeting program built from GNU hello as a packaging example
Description-md5: b7df6fe7ffb325083a3a60819a7df548
Section: devel
`
	translations := `Package: hello
Description-md5: b7df6fe7ffb325083a3a60819a7df548
Description-en: greeting program built from GNU hello as a packaging example
 The program prints a short hello to whoever runs it.
 .
 It exists to show how a Debian package is put together.
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
	// {"id":"hello","text":"greeting program built from GNU hello as a packaging example\nThe program prints a short hello to whoever runs it.\nIt exists to show how a Debian package is put together.","labels":["devel"]}
}
