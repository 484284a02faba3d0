// Package wire holds the pieces Beamline's own Beam coders share (record.Record,
// record.Failure, features.Enriched, clean.Dedupe's positions): strings written as a uvarint
// length and their bytes, and a Reader that reads such encodings back.
package wire

import (
	"encoding/binary"
	"errors"
)

// ErrShort is the Reader's error for a read past the end of its input or a bad varint.
var ErrShort = errors.New("truncated input")

// AppendString appends s as its length (uvarint) and its bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Reader reads values off B. The first read that does not fit sets Err and every read after
// it returns a zero value, so a decoder reads all its fields and checks Err once.
type Reader struct {
	B   []byte
	Err error
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.B) < 1 {
		r.Err = ErrShort
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed (zig-zag) varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Take reads the next n bytes. They share B's array, with their capacity capped at n.
func (r *Reader) Take(n uint64) []byte {
	if r.Err != nil {
		return nil
	}
	if n > uint64(len(r.B)) {
		r.Err = ErrShort
		return nil
	}
	p := r.B[:n:n]
	r.B = r.B[n:]
	return p
}

// Bytes reads what AppendString wrote: a length, then that many bytes, shared with B.
func (r *Reader) Bytes() []byte { return r.Take(r.Uvarint()) }

// Str reads what AppendString wrote, as a string of its own. (Not String: a Reader is no
// fmt.Stringer.)
func (r *Reader) Str() string { return string(r.Bytes()) }
