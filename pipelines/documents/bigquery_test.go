package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/internal/dev/toymodel"
)

// TestBatchPredictionsToBigQuery loads predictions into a table the job creates: one row per
// document, the topics as a repeated record, stamped with the model version.
func TestBatchPredictionsToBigQuery(t *testing.T) {
	b := testenv.BigQuery(t)
	b.Env(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	v := toymodel.Publish(t, models, "topics", t0, "games", "net", "audio")
	in := filepath.Join(dir, "docs.jsonl")
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":"d%02d","text":"%s"}`, i, []string{"tcp proxy", "music mixer", "strategy game"}[i%3]))
	}
	lines = append(lines, `{"id":"bad","text":"qqq"}`)
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("bq://%s.%s.topics", b.Project, b.Dataset)
	setFlags(t, in, models, table, filepath.Join(dir, "dead"), time.Minute, 0)
	old := *stagingFlag
	*stagingFlag = t.TempDir()
	defer func() { *stagingFlag = old }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sql := fmt.Sprintf("SELECT id, model_version, ARRAY_LENGTH(topics) AS n, topics[OFFSET(0)].label AS top FROM `%s.%s.topics` ORDER BY id", b.Project, b.Dataset)
	rows := 0
	for _, r := range b.Query(t, sql) {
		id, version, n, top := r[0].(string), r[1].(string), r[2].(int64), r[3].(string)
		var i int
		fmt.Sscanf(id, "d%d", &i)
		want := []string{"net", "audio", "games"}[i%3]
		if version != v || n != 3 || top != want {
			t.Errorf("row %s: version %s, %d topics, top %s; want %s, 3, %s", id, version, n, top, v, want)
		}
		rows++
	}
	if rows != 30 {
		t.Errorf("table holds %d rows, want 30", rows)
	}
}
