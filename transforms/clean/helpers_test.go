package clean_test

import (
	"errors"

	"github.com/beamline/beamline/internal/jsonx"
)

func asSyntax(err error, target **jsonx.SyntaxError) bool { return errors.As(err, target) }
