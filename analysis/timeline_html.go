package analysis

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// timelinePage is the page: style, markup and the script that draws
// [TimelineData] on a canvas, with the data's place marked.
//
//go:embed timeline.html
var timelinePage string

// dataMark is where the page's data goes.
const dataMark = "/*TIMELINE_DATA*/"

// WriteHTML writes the timeline page of d: one self-contained HTML file
// (no network access: the script and style are inline). Once drawn, the
// page's body has the attribute data-rendered="lanes=N rects=M"; a script
// error sets data-error.
func WriteHTML(w io.Writer, d TimelineData) error {
	head, tail, ok := strings.Cut(timelinePage, dataMark)
	if !ok {
		panic("analysis: timeline.html has no " + dataMark)
	}
	// json.Marshal escapes <, > and &: the data cannot end the script.
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode timeline data: %w", err)
	}
	for _, part := range [][]byte{[]byte(head), b, []byte(tail)} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}
