//go:build tools

// Package bqemu only pins the emulator's module; build.sh builds its command.
package bqemu

import _ "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"
