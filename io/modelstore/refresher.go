package modelstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Refresher holds the current decoded model of a running pipeline and replaces it when a new
// version is published. It starts no goroutine: the caller decides when to Check, typically a
// DoFn in StartBundle, no more often than it can afford a read of LATEST.
//
//	func (f *scoreFn) Setup(ctx context.Context) error {
//		f.model = modelstore.NewRefresher(f.Root, "spam", textclass.Decode, modelstore.WithKind("textclass.nb"))
//		_, err := f.model.Check(ctx) // no model, no scoring: fail the bundle
//		return err
//	}
//
//	func (f *scoreFn) StartBundle(ctx context.Context) {
//		if _, err := f.model.Check(ctx); err != nil {
//			_, v, _ := f.model.Current()
//			log.Warnf(ctx, "keeping model version %s: %v", v, err) // the old model keeps serving
//		}
//	}
//
// Current and Check are safe for concurrent use; Current never waits for a Check.
type Refresher[T any] struct {
	root, name string
	decode     func(*Artifact) (T, error)
	cfg        openConfig

	cur atomic.Pointer[loaded[T]]

	mu     sync.Mutex // one Check at a time: two would load the same version twice
	badVer string     // the version that last failed for good, under mu
	badErr error      // why, under mu
}

type loaded[T any] struct {
	model   T
	version string
}

// NewRefresher returns a Refresher for model name under root that turns each new version
// into a T with decode. It holds no model until the first successful Check.
func NewRefresher[T any](root, name string, decode func(*Artifact) (T, error), opts ...OpenOption) *Refresher[T] {
	if decode == nil {
		panic("modelstore.NewRefresher: decode is nil")
	}
	return &Refresher[T]{root: root, name: name, decode: decode, cfg: newOpenConfig(opts)}
}

// Check reads LATEST and, if it names another version than the one held (newer or, after a
// rollback, older), opens, verifies and decodes that version and swaps it in. changed reports
// a swap. On any error (LATEST unreadable, the version corrupt or incompatible, decode
// failing) the model held is kept and the error returned.
//
// A version that failed verification or decoding is not read again while LATEST still names
// it: later Checks return the same error at the cost of one read of LATEST, rather than
// downloading a bad model on every poll. I/O errors are retried on the next Check.
func (r *Refresher[T]) Check(ctx context.Context) (changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := checkSegment("model", r.name); err != nil {
		return false, err
	}
	s, err := openStore(ctx, r.root)
	if err != nil {
		return false, err
	}
	defer s.close()
	v, err := s.latest(ctx, r.name)
	if err != nil {
		return false, err
	}
	if c := r.cur.Load(); c != nil && c.version == v {
		return false, nil
	}
	if v == r.badVer {
		return false, r.badErr
	}
	a, err := s.open(ctx, r.name, v, r.cfg)
	if err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrIncompatible) {
			r.badVer, r.badErr = v, err
		}
		return false, err
	}
	m, err := r.decode(a)
	if err != nil {
		err = fmt.Errorf("modelstore: decoding %s: %w", s.path(r.name, v), err)
		r.badVer, r.badErr = v, err
		return false, err
	}
	r.cur.Store(&loaded[T]{model: m, version: v})
	r.badVer, r.badErr = "", nil
	return true, nil
}

// Current returns the model held and its version; ok is false before the first successful
// Check.
func (r *Refresher[T]) Current() (model T, version string, ok bool) {
	c := r.cur.Load()
	if c == nil {
		return model, "", false
	}
	return c.model, c.version, true
}
