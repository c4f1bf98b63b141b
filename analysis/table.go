package analysis

import (
	"bytes"
	"io"
)

// WriteTable prints rows as an indented table: the first column
// left-aligned, the others right-aligned, two spaces apart.
func WriteTable(w io.Writer, rows [][]string) error {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	var b []byte
	for _, row := range rows {
		b = append(b[:0], ' ')
		for i, c := range row {
			b = append(b, "  "...)
			pad := bytes.Repeat([]byte{' '}, widths[i]-len(c))
			if i == 0 {
				b = append(append(b, c...), pad...)
			} else {
				b = append(append(b, pad...), c...)
			}
		}
		b = append(bytes.TrimRight(b, " "), '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
