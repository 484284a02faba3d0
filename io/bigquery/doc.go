// Package bigquery writes Beam PCollections into BigQuery tables: Write streams rows through
// the Storage Write API, Load appends them with one load job, WriteFailures keeps dead letters.
// Tables are addressed as bq://project.dataset.table (ParseTable).
//
// # Rows
//
// A row is a Go struct, or a record.Record written as RecordRow (metadata columns plus Data as
// a JSON column) for pipelines without Go types. InferSchema maps a struct to columns:
//
//	string → STRING        int, int8-64, uint8-32 → INTEGER   float32/64 → FLOAT
//	bool → BOOLEAN         []byte → BYTES                      time.Time → TIMESTAMP
//	civil.Date/DateTime/Time → DATE/DATETIME/TIME              *big.Rat → NUMERIC
//	int64 tagged numeric:"2" → NUMERIC (minor units: 1234 is 12.34)
//	nested struct → RECORD  slice → REPEATED    map[string]V, json.RawMessage, bigquery:",json" → JSON
//
// Column names come from the bigquery tag, else the json tag, else the field name. Every
// column is NULLABLE (REPEATED for slices); a nil pointer, nil map and zero time.Time are NULL.
//
// # Tables
//
// Write and Load run EnsureTable once per pipeline before the first row: a missing table is
// created (WithPartitioning, WithClustering), and columns the struct gained are added as
// NULLABLE. No column is ever dropped or changed; an incompatible one is a *ColumnError.
//
// # Dead letters
//
// Nothing is dropped. Rows that cannot be encoded (bq_invalid_row), rows BigQuery refuses
// (bq_row_error) and rows still failing after the retries (bq_retries_exhausted) come out as
// record.Failure with the server's message and the row as JSON; WriteFailures stores them.
// Infrastructure failures (table missing, no permission, a failed load job) fail the bundle so
// the runner retries it; delivery is therefore at least once.
//
// # Where BigQuery is
//
// Conn holds the endpoints; its zero value is Google with Application Default Credentials.
// When no endpoint is given, BIGQUERY_EMULATOR_HOST (REST host:port) and
// BIGQUERY_EMULATOR_GRPC_HOST (Storage API host:port) point every transform of this package at
// goccy/bigquery-emulator without code changes, as PUBSUB_EMULATOR_HOST does for Pub/Sub.
//
// # The emulator
//
// goccy/bigquery-emulator v0.6.6 differs from BigQuery in ways that Conn.Emulator works around
// or that tests must know:
//   - A Storage Write request without a stream name goes to an arbitrary stream: every append
//     names its stream (always, as BigQuery allows).
//   - TIMESTAMP as int64 microseconds loses precision (the remainder is read as
//     milliseconds): emulator mode sends RFC 3339 text.
//   - Concurrent appends fail with "database table is locked": emulator mode serialises the
//     appends of a process and retries that error.
//   - A refused row is reported as INTERNAL in the response, never as row errors: emulator
//     mode treats it as a refusal and halves the batch to find the row. Values of NUMERIC,
//     JSON and DATE columns are never refused (coerced, or the row silently vanishes).
//   - tables.patch stores nothing, tables.update and ALTER TABLE are unsupported: new columns
//     cannot be added there, and EnsureTable says so (ErrSchemaNotApplied).
//   - A JSON column written through the Storage Write API holds a JSON string of the text.
//   - Resumable uploads fail: local files are uploaded in one request.
//   - Load jobs from gs:// read STORAGE_EMULATOR_HOST in the emulator's own environment, with
//     its scheme (http://host:port).
package bigquery
