package store

import (
	"slices"
	"testing"
)

func TestHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		size          int
		start         int64
		adds          int   // events added after start
		compact       int64 // 0: none
		from, to      int64
		want          []int64
		wantCompacted int64
	}{
		{"empty", 4, 0, 0, 0, 0, 0, nil, 0},
		{"starts after a restart", 4, 10, 2, 0, 10, 12, []int64{11, 12}, 10},
		{"partial range", 8, 0, 5, 0, 1, 3, []int64{2, 3}, 0},
		{"wraps and drops", 3, 0, 7, 0, 0, 7, []int64{5, 6, 7}, 4},
		{"compact", 8, 0, 6, 3, 3, 6, []int64{4, 5, 6}, 3},
		{"compact everything", 8, 0, 6, 6, 6, 6, nil, 6},
		{"compact within the dropped part", 2, 0, 6, 2, 4, 6, []int64{5, 6}, 4},
		{"range clipped to last", 4, 0, 2, 0, 0, 9, []int64{1, 2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory(tt.size, tt.start)
			for i := range tt.adds {
				h.add(Event{Rev: tt.start + int64(i) + 1})
			}
			if tt.compact != 0 {
				h.compact(tt.compact)
			}
			var got []int64
			h.each(tt.from, tt.to, func(ev *Event) { got = append(got, ev.Rev) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("each(%d, %d) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
			if h.compacted != tt.wantCompacted {
				t.Errorf("compacted = %d, want %d", h.compacted, tt.wantCompacted)
			}
			if int64(h.n) != h.last-h.compacted {
				t.Errorf("holds %d events for revisions (%d, %d]", h.n, h.compacted, h.last)
			}
		})
	}
}
