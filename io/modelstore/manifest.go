package modelstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CurrentFormat is the manifest format this build writes, and the newest it reads. Raise it
// only for a change an older reader would misread; adding a field is not one (readers ignore
// fields they do not know).
const CurrentFormat = 1

// Manifest describes one published version of a model: what it is, what it was trained on,
// how well it did, and the payload files with their sizes and checksums. It is stored as
// manifest.json beside the payload.
type Manifest struct {
	// FormatVersion is the manifest format; Publish sets it to CurrentFormat.
	FormatVersion int `json:"format_version"`
	// Name is the model's name in the store; Publish sets it.
	Name string `json:"name"`
	// Kind says which decoder reads the payload, e.g. "textclass.nb". Open can insist on one
	// (WithKind), so a pipeline never loads a model of another kind published under its name.
	Kind string `json:"kind"`
	// Version is the version's directory name; Publish sets it from CreatedAt.
	Version string `json:"version"`
	// CreatedAt is when the model was built; Publish fills in the current time if it is zero.
	CreatedAt time.Time `json:"created_at"`
	// Labels are the classes the model predicts, if it is a classifier.
	Labels []string `json:"labels,omitempty"`
	// Features is the feature specification the model expects, as the trainer wrote it.
	Features json.RawMessage `json:"features,omitempty"`
	// Params are the training parameters, as the trainer wrote them.
	Params json.RawMessage `json:"params,omitempty"`
	// Metrics are evaluation results, e.g. {"accuracy": 0.93}.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Data is the training data the model was built from.
	Data TrainingData `json:"data"`
	// Files lists the payload files; Publish fills it in and Open checks every one.
	Files map[string]FileInfo `json:"files"`
}

// TrainingData records where a model's training data came from.
type TrainingData struct {
	Input string    `json:"input,omitempty"` // a path, glob or table
	From  time.Time `json:"from"`            // event time of the first record used
	To    time.Time `json:"to"`              // event time the range ends (exclusive)
	// Records is the number of records trained on. int64, not int: a count of records in a
	// lake is not bounded by the platform's int.
	Records int64 `json:"records"`
}

// FileInfo is what the manifest records of one payload file.
type FileInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex
}

// Artifact is one opened, verified version: its manifest and its payload files by name.
type Artifact struct {
	Manifest Manifest
	Files    map[string][]byte
}

// Sentinel errors, matched with errors.Is. Errors from this package that concern one file or
// version are *Error values carrying one of these and the path.
var (
	// ErrNotFound: the model or version was never published (no LATEST, no manifest.json).
	ErrNotFound = errors.New("modelstore: not found")
	// ErrCorrupt: a published version does not match its manifest (a file is missing, has
	// another size or checksum), or the manifest or LATEST cannot be read as such.
	ErrCorrupt = errors.New("modelstore: corrupt artifact")
	// ErrIncompatible: the artifact is whole but this build must not use it (a newer manifest
	// format, or another Kind than asked for).
	ErrIncompatible = errors.New("modelstore: incompatible artifact")
	// ErrBadName: a model, version or file name is not a plain path segment.
	ErrBadName = errors.New("modelstore: bad name")
)

// Error is a failure concerning one path of the store.
type Error struct {
	Path   string // the file or version directory concerned
	Class  error  // ErrNotFound, ErrCorrupt, ErrIncompatible or ErrBadName; nil for an I/O failure
	Detail string // what is wrong, in words
	Err    error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Class != nil {
		b.WriteString(e.Class.Error())
	} else {
		b.WriteString("modelstore")
	}
	b.WriteString(": ")
	b.WriteString(e.Path)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap gives both the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Class != nil {
		out = append(out, e.Class)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// decodeManifest parses and checks the manifest found at path for name and version. It reads
// the format first on its own, so a newer format is refused as incompatible even when its
// other fields no longer parse as this build's Manifest.
func decodeManifest(path string, b []byte, name, version, kind string) (*Manifest, error) {
	var head struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, &Error{Path: path, Class: ErrCorrupt, Detail: "manifest does not parse", Err: err}
	}
	switch {
	case head.FormatVersion <= 0:
		return nil, &Error{Path: path, Class: ErrCorrupt, Detail: "no format_version: not a modelstore manifest"}
	case head.FormatVersion > CurrentFormat:
		return nil, &Error{Path: path, Class: ErrIncompatible, Detail: fmt.Sprintf(
			"written in manifest format %d; this build reads format %d and older (upgrade the reader)",
			head.FormatVersion, CurrentFormat)}
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &Error{Path: path, Class: ErrCorrupt, Detail: "manifest does not parse", Err: err}
	}
	// The manifest is written indented for people to read, which indents these too; give
	// them back compact, as trainers write them.
	m.Features, m.Params = compactJSON(m.Features), compactJSON(m.Params)
	// A version directory copied by hand under another name would otherwise load as what
	// it is not.
	if m.Name != name || m.Version != version {
		return nil, &Error{Path: path, Class: ErrCorrupt, Detail: fmt.Sprintf(
			"manifest describes %s version %s, found as %s version %s", m.Name, m.Version, name, version)}
	}
	if kind != "" && m.Kind != kind {
		return nil, &Error{Path: path, Class: ErrIncompatible, Detail: fmt.Sprintf("kind is %q, want %q", m.Kind, kind)}
	}
	for f := range m.Files {
		if err := checkSegment("file", f); err != nil || f == manifestFile {
			return nil, &Error{Path: path, Class: ErrCorrupt, Detail: fmt.Sprintf("lists file %q, which is not a plain file name", f)}
		}
	}
	return &m, nil
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw // cannot happen: Unmarshal has validated it
	}
	return b.Bytes()
}
