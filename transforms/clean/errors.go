package clean

import (
	"errors"
	"fmt"
)

// Reason codes. A reason is a short stable code, optionally followed by ":" and the field it
// concerns (missing_field:order_id). Dashboards group by the code, people read the Message.
const (
	ReasonEmpty         = "empty_record"
	ReasonTooLarge      = "too_large"
	ReasonInvalidUTF8   = "invalid_utf8"
	ReasonNUL           = "nul_byte"
	ReasonControlChar   = "control_char"
	ReasonBOM           = "unexpected_bom"
	ReasonJSONSyntax    = "json_syntax"
	ReasonJSONTruncated = "json_truncated"
	ReasonJSONNotObject = "json_not_object"
	ReasonJSONTrailing  = "json_trailing_data"
	ReasonJSONType      = "json_type"
	ReasonCSVSyntax     = "csv_syntax"
	ReasonCSVFieldCount = "csv_field_count"
	// ReasonDuplicateField: a JSON object (at any depth) or a CSV header names a field twice.
	ReasonDuplicateField = "duplicate_field"
	ReasonMissingField   = "missing_field"
	ReasonWrongType      = "wrong_type"
	ReasonOutOfRange     = "out_of_range"
	ReasonBadFormat      = "bad_format"
	ReasonNotAllowed     = "not_allowed"
	ReasonTooLong        = "too_long"
	ReasonCheck          = "check"
	ReasonBadTimestamp   = "bad_timestamp"
	ReasonTimeTooOld     = "time_too_old"
	ReasonTimeInFuture   = "time_in_future"
	ReasonTooLate        = "too_late"
	ReasonBadAmount      = "bad_amount"
	ReasonUnknownCurr    = "unknown_currency"
	ReasonBadEmail       = "bad_email"
	ReasonDuplicate      = "duplicate"
)

// Error is a rejected record: the reason code, a message for people, and the underlying
// error (a *jsonx.SyntaxError, *csv.ParseError, …) with its position when there is one.
type Error struct {
	Reason string
	Msg    string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func reject(reason string, err error, format string, args ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, args...), Err: err}
}

func fieldReason(code, field string) string { return code + ":" + field }

// AsError returns err as an *Error, wrapping any other error as a failed check.
func AsError(err error, check string) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Reason: fieldReason(ReasonCheck, check), Msg: err.Error(), Err: err}
}
